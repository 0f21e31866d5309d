# Thin wrapper over CMake + Ninja. `make demo` and `make test` work on a fresh Debian 12 (as root).
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
MOONWIRE := $(BUILD)/moonwire

.PHONY: all deps configure build demo test test-unit test-lua bench soak clean

all: build

deps:
	@tools/install-deps.sh

$(BUILD)/build.ninja:
	@tools/install-deps.sh
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD)/build.ninja

build: deps configure
	ninja -C $(BUILD) moonwire moonwire_unit

demo: build
	$(MOONWIRE) scripts/demo.lua

test-unit: build
	$(BUILD)/moonwire_unit --gtest_brief=1

# The Lua suite (module tests, CLI tests, script smoke tests, interop with real peers) ends
# with the line "N passed, M failed".
test-lua: build
	MOONWIRE_BIN=$(abspath $(MOONWIRE)) $(MOONWIRE) test tests

test: test-unit test-lua

bench: build
	tools/bench/run.sh $(BUILD)

# Soak tests (not part of `make test`): 10,000 TCP/WebSocket/HTTP connections opened and closed,
# a slow consumer under broadcast, SIGTERM under load. A few minutes; SOAK_CONNS=100000 for longer.
# See tools/soak/run.sh and docs/reliability.md.
soak: deps configure
	tools/soak/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
