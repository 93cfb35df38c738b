# The two commands a newcomer needs:
#   make demo   install what is missing, build, run the demo contract end to end
#   make test   install what is missing, build, run every test through ctest
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 10

.PHONY: all deps configure build test unit-test fuzz demo examples format clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then \
	  cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null; \
	fi

build: configure
	@cmake --build $(BUILD_DIR) -- -j$(JOBS)

# Every test through ctest, then each fuzzer briefly on its corpus.
test: unit-test fuzz

unit-test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

# libFuzzer targets in their own clang build (ASan + UBSan + coverage).
fuzz: deps
	@if [ ! -f $(FUZZ_DIR)/build.ninja ]; then \
	  cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCMAKE_CXX_COMPILER=clang++ -DMW_BUILD_FUZZERS=ON -DMW_BUILD_TESTS=OFF \
	    -DMW_BUILD_BENCH=OFF >/dev/null; \
	fi
	@cmake --build $(FUZZ_DIR) --target contract_fuzzer split_fuzzer engine_fuzzer media_fuzzer -- -j$(JOBS)
	@scripts/fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

demo: build
	@scripts/demo.sh $(BUILD_DIR)

# Each contract in examples/ end to end with simulated workers.
examples: build
	@for e in receipts translation ticket-triage moderation proofreading receipt-lines entities speech vehicles street-marks; do scripts/run-example.sh $$e $(BUILD_DIR) || exit 1; done

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_DIR)
