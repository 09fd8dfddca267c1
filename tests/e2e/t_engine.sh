#!/usr/bin/env bash
# Runs the in-process engine tests (tests/engine/test_engine.c) against a
# test origin: pause, resume and cancel at any moment, many at once.
. "$(dirname "$0")/lib.sh"
: "${HAUL_ENGINE_TEST:?set HAUL_ENGINE_TEST to the test_engine binary}"
start_origin
ORIGIN="$ORIGIN" ORIGIN_LOG="$ORIGIN_LOG" TEST_DIR="$T" "$HAUL_ENGINE_TEST"
