# Sargas: the two commands a newcomer needs are `make run` and `make test`.
# Everything else here is a convenience wrapper around CMake/CTest.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
RUN_DIR    ?= $(CURDIR)/run

.PHONY: all deps test-deps build media run test test-fast test-asan fuzz fuzz-smoke bench clean

all: build

deps:
	@scripts/deps.sh build

test-deps:
	@scripts/deps.sh test

$(BUILD)/build.ninja $(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)
	@scripts/gen-media.sh $(BUILD)/media
	@scripts/web-build.sh $(BUILD)/web

media: build

run: build
	scripts/demo.sh $(BUILD) $(RUN_DIR)

# The whole suite on the normal build, then again under ASan/UBSan, then a short fuzzing
# pass over every network parser. Integration tests run one at a time: several of them
# measure timing (loss per crash, reconnect delay, CPU while offline) on a 2-core machine.
test: test-deps build
	cd $(BUILD) && ctest --output-on-failure --timeout 900
	$(MAKE) test-asan
	$(MAKE) fuzz-smoke

test-fast: build
	cd $(BUILD) && ctest --output-on-failure --timeout 900

test-asan: test-deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSG_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	@scripts/gen-media.sh $(BUILD)/media
	@scripts/web-build.sh $(BUILD)/web
	# ASan keeps freed memory in a quarantine (256 MB by default) to catch use after free;
	# the tests' memory checks (RSS of sargasd under hostile cameras) are about our memory,
	# so the quarantine is kept to 32 MB, which still catches reuse of recent frees.
	cd $(ASAN_BUILD) && ASAN_OPTIONS=quarantine_size_mb=32 SG_MEDIA_DIR=$(CURDIR)/$(BUILD)/media \
		SG_WEB_DIR=$(CURDIR)/$(BUILD)/web ctest --output-on-failure --timeout 1200

fuzz: test-deps
	CC=clang cmake -S . -B build-fuzz -DSG_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	tests/fuzz/run-all.sh build-fuzz 60

fuzz-smoke: test-deps
	CC=clang cmake -S . -B build-fuzz -DSG_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	SG_FUZZ_JOBS=2 tests/fuzz/run-all.sh build-fuzz 15

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
