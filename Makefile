# The README's two commands:
#   make run    install what is missing, build, start the daemon (haul get works today)
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

# The daemon (haul serve) is the next milestone; until then `make run`
# builds haul and shows what it can do: `build/haul get URL`.
run: build
	@mkdir -p data/downloads
	@$(BUILD)/haul --help
	@echo
	@echo "try: $(BUILD)/haul get URL -d data/downloads"

check: deps
	@cmake -S . -B $(CHECKBUILD) -DCMAKE_BUILD_TYPE=Debug -DHAUL_SANITIZE=ON >/dev/null
	@cmake --build $(CHECKBUILD) -j $(JOBS)
	@cd $(CHECKBUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS)

bench: build
	@scripts/bootstrap bench
	bench/direct.sh

fuzz:
	fuzz/run

clean:
	rm -rf $(BUILD) $(CHECKBUILD) build-fuzz
