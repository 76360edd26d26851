# Custodian — the two commands are `make run` and `make test`; see README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
DATA       ?= var
LISTEN     ?= 127.0.0.1:8080
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build run test asan bench clean format fuzz reliability

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@test -d $(DATA) || $(BUILD)/custodian --data $(DATA) init
	$(BUILD)/custodian --data $(DATA) serve --listen $(LISTEN)

test: build
	@scripts/test-all $(BUILD) $(ASAN_BUILD)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCU_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (tests/fuzz/), 60 s each; `make test` replays their corpus without clang.
fuzz: deps
	@FUZZ_BUILD=$(FUZZ_BUILD) scripts/fuzz --time 60

# The long form of the reliability suite (docs/reliability.md).
reliability: build
	@FUZZ_BUILD=$(FUZZ_BUILD) scripts/reliability

bench: build
	@bench/run $(BUILD)
	@bench/run-http $(BUILD)

format:
	clang-format -i include/custodian/*.h src/*.c src/*.h cli/*.c tests/unit/*.c tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h bench/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
