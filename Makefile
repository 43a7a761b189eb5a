# Daily work. `./run.sh` and `./test.sh` are the entry points a newcomer
# needs; this Makefile wraps the same scripts (it needs make, which
# scripts/setup.sh installs with build-essential).
#
#   make build        configure (once) and build into build/
#   make run          ./run.sh (ARGS="--log-level debug" passes flags to gpixd)
#   make test         ./test.sh: every test (unit, integration, BDD, web)
#   make unit         the Check unit tests only
#   make integration  the Node integration tests only (node --test)
#   make bdd          the Gherkin scenarios only (cucumber-js)
#   make bench        scripts/bench*.sh (h2load: gpixd against nginx)
#   make asan         ASan + UBSan build in build-asan/, then the unit tests
#   make format       clang-format the C sources in place
#   make format-check fail when a C source is not formatted
#   make clean        remove build directories and generated test code

SHELL := /bin/sh
BUILD ?= build
ASAN_BUILD ?= build-asan
ARGS ?=
# In-place setup + environment (pinned Node on PATH) for recipes that need it.
ENV := GPIX_ROOT=$(CURDIR) && . scripts/env.sh

# C sources to format: ours, not generated (protoc-c output lives in build
# directories; third-party code under subprojects/ or vendor/ if any).
C_SOURCES = $(shell git ls-files --cached --others --exclude-standard -- '*.c' '*.h' \
	| grep -v -E '(^|/)(build[^/]*|subprojects|vendor|third_party)/|\.pb-c\.[ch]$$' \
	| while read -r f; do [ -f "$$f" ] && echo "$$f"; done)

.PHONY: all build run test unit integration bdd bench asan format format-check clean setup web web-test

all: build

setup:
	@sh scripts/setup.sh

build: setup
	@sh scripts/build.sh $(BUILD)

run:
	./run.sh $(ARGS)

test:
	./test.sh

unit: build
	meson test -C $(BUILD) --print-errorlogs

integration: build
	@sh scripts/setup.sh --tests
	@$(ENV) && GPIX_TEST_ONLY=integration ./test.sh

bdd: build
	@sh scripts/setup.sh --tests
	@$(ENV) && GPIX_TEST_ONLY=bdd ./test.sh

bench: build
	@set -e; found=0; for s in scripts/bench*.sh; do \
		[ -f "$$s" ] || continue; found=1; echo "==> $$s"; sh "$$s"; done; \
	[ $$found = 1 ] || echo "no scripts/bench*.sh"

asan: setup
	@sh scripts/build.sh $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		meson test -C $(ASAN_BUILD) --print-errorlogs

format:
	@sh scripts/setup.sh dev
	clang-format -i $(C_SOURCES)

format-check:
	@sh scripts/setup.sh dev
	@bad=$$(clang-format --dry-run --Werror $(C_SOURCES) 2>&1 \
		| sed -n 's/^\([^:]*\):[0-9]*:[0-9]*: error: .*/\1/p' | sort -u); \
	if [ -n "$$bad" ]; then echo "not formatted (make format):"; echo "$$bad" | sed 's/^/  /'; exit 1; fi; \
	echo "format-check: all $(words $(C_SOURCES)) C sources formatted"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) tests/integration/gen web/dist web/src/gen web/test-results

# The browser UI (web/, docs/web.md): built into web/dist, which gpixd serves at /.
web:
	@sh scripts/setup.sh --node
	@sh scripts/build-web.sh

web-test: build
	@sh scripts/setup.sh --node web
	@sh scripts/test-web.sh

# GPU checks (docs/plugins.md): need an NVIDIA GPU and a build where meson
# found nvcc (the CUDA plugin, tests/gpu/). Both skip (exit 77) without a
# usable CUDA device. GPU_ARGS passes flags to the program (gpu_parity:
# --quick; gpu_bench: --seconds S --threads N).
.PHONY: test-gpu bench-gpu
test-gpu: build
	@test -x $(BUILD)/tests/gpu/gpu_parity || { echo "test-gpu: $(BUILD) has no CUDA plugin (meson did not find nvcc)"; exit 1; }
	$(BUILD)/tests/gpu/gpu_parity --plugin-dir $(BUILD)/gpu --samples data/samples $(GPU_ARGS)

bench-gpu: build
	@test -x $(BUILD)/tests/gpu/gpu_bench || { echo "bench-gpu: $(BUILD) has no CUDA plugin (meson did not find nvcc)"; exit 1; }
	$(BUILD)/tests/gpu/gpu_bench --plugin-dir $(BUILD)/gpu $(GPU_ARGS)
	python3 tests/gpu/bench_torch.py
