# Custodian — the two commands are `make run` and `make test`; see README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
COV_BUILD  ?= build-cov
DATA       ?= var
LISTEN     ?= 127.0.0.1:8080
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build run test asan bench clean format fuzz reliability reliability-suite coverage

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

# The long form of the reliability suite (docs/reliability.md): every fuzzer to 10 M runs,
# then crash, soak and privacy (scripts/reliability-suite).
reliability: build
	@FUZZ_BUILD=$(FUZZ_BUILD) scripts/reliability
	@scripts/reliability-suite $(BUILD)

# The long forms of the crash, soak and privacy tests (about 17 minutes); docs/reliability-suite.md.
reliability-suite: build
	@scripts/reliability-suite $(BUILD)

# gcc --coverage build in $(COV_BUILD), the whole ctest suite, then gcovr over src/, server/, cli/:
# lines and branches on the terminal, the HTML report in $(COV_BUILD)/coverage/index.html.
coverage: deps
	@cmake -S . -B $(COV_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCU_COVERAGE=ON >/dev/null
	@cmake --build $(COV_BUILD) -j $(JOBS)
	@find $(COV_BUILD) -name '*.gcda' -delete
	@cd $(COV_BUILD) && ctest --output-on-failure -j $(JOBS) || echo "coverage: some tests failed (figures below still count)"
	@mkdir -p $(COV_BUILD)/coverage
	@gcovr -r . --object-directory $(COV_BUILD) -f 'src/' -f 'server/' -f 'cli/' \
		--exclude-unreachable-branches --exclude-throw-branches \
		--html-details $(COV_BUILD)/coverage/index.html --print-summary -o $(COV_BUILD)/coverage/summary.txt
	@echo "coverage: HTML report in $(COV_BUILD)/coverage/index.html"

bench: build
	@bench/run $(BUILD)
	@bench/run-http $(BUILD)
	@bench/run-web $(BUILD)
	@bench/run-backup $(BUILD)

# Every C file (scripts/c-files, the list scripts/check-format checks) through .clang-format.
# `make style` runs the four style checks (docs/style-checks.md); `make test` runs them too.
CLANG_FORMAT ?= clang-format-14
.PHONY: style
format: deps
	@$(CLANG_FORMAT) -i $$(scripts/c-files)

style:
	@scripts/check-includes; a=$$?; scripts/checksrc; b=$$?; scripts/check-doc-paths; d=$$?; \
	 CLANG_FORMAT=$(CLANG_FORMAT) scripts/check-format; c=$$?; [ $$a$$b$$c$$d = 0000 ]

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(COV_BUILD)
