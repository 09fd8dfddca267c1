# The README's two commands:
#   make run    install what is missing, build, start the daemon on 127.0.0.1:4285
#   make check  install, build with sanitizers, run every test
BUILD      ?= build
CHECKBUILD ?= build-check
JOBS       ?= $(shell nproc)

.PHONY: all build run check deps bench fuzz clean

all: build

deps:
	@scripts/bootstrap

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The daemon on the embedded default: SQLite store in data/downloads/.haul,
# downloads in data/downloads, web UI and API on http://127.0.0.1:4285
run: build
	@mkdir -p data/downloads
	exec $(BUILD)/haul serve --dir data/downloads

check: deps
	@cmake -S . -B $(CHECKBUILD) -DCMAKE_BUILD_TYPE=Debug -DHAUL_SANITIZE=ON >/dev/null
	@cmake --build $(CHECKBUILD) -j $(JOBS)
	@cd $(CHECKBUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: build
	@scripts/bootstrap bench
	bench/direct.sh
	bench/api.sh
	bench/hls.sh

fuzz:
	fuzz/run

clean:
	rm -rf $(BUILD) $(CHECKBUILD) build-fuzz
