# Thin wrapper over CMake + Ninja. `make demo` and `make test` work on a fresh Debian 12 (as root).
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
MOONWIRE := $(BUILD)/moonwire

.PHONY: all deps configure build demo test test-unit test-lua lint test-sanitize fuzz bench soak \
	install uninstall deb clean

all: build

deps:
	@tools/install-deps.sh

$(BUILD)/build.ninja:
	@tools/install-deps.sh
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

configure: $(BUILD)/build.ninja

build: deps configure
	ninja -C $(BUILD) moonwire moonwire_unit moonwire_man

demo: build
	$(MOONWIRE) scripts/demo.lua

test-unit: build
	$(BUILD)/moonwire_unit --gtest_brief=1

# The Lua suite (module tests, CLI tests, script smoke tests, interop with real peers) ends
# with the line "N passed, M failed".
test-lua: build
	MOONWIRE_BIN=$(abspath $(MOONWIRE)) $(MOONWIRE) test tests

test: test-unit test-lua

# luacheck (.luacheckrc) over stdlib/lua, scripts/ and the Lua tests; also run by the Lua suite
# (tests/cli/luacheck_test.lua), so `make test` fails on a warning.
lint:
	luacheck --no-color -q stdlib/lua scripts tests types

# Installs the binary, the man page, the docs and the type definitions (docs/editor.md) into
# $(DESTDIR)$(PREFIX); `make uninstall [DESTDIR=...]` removes what the last `make install` wrote: CMake's
# install_manifest.txt, kept as $(BUILD)/install_manifest.make.txt (CPack rewrites the former
# with the package's paths, which must never be removed by hand).
PREFIX ?= /usr/local
MANIFEST := $(BUILD)/install_manifest.make.txt
install: deps configure
	ninja -C $(BUILD) moonwire moonwire_man
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX) --strip
	cp $(BUILD)/install_manifest.txt $(MANIFEST)

uninstall:
	tools/uninstall.sh $(MANIFEST) $(DESTDIR)

# A Debian package, $(BUILD)/moonwire_<version>_<arch>.deb (CPack; Depends: from
# dpkg-shlibdeps). Check it with `dpkg-deb -I`; install with `apt install ./build/moonwire_*.deb`.
deb: deps configure
	ninja -C $(BUILD) moonwire moonwire_man
	cd $(BUILD) && cpack -G DEB

# The same tests on an ASan + LSan + UBSan build in its own directory (docs/reliability.md).
# Any sanitizer report - in this process or in a moonwire child process the CLI tests start -
# exits with code 66, so a leaking or misbehaving child fails the test that checks its status.
SAN_BUILD ?= build-sanitize
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=66:check_initialization_order=1:strict_init_order=1 \
	LSAN_OPTIONS=suppressions=$(abspath tools/sanitize/lsan.supp):print_suppressions=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=66 \
	MOONWIRE_TEST_TIMEOUT=$${MOONWIRE_TEST_TIMEOUT:-90}

$(SAN_BUILD)/build.ninja:
	@tools/install-deps.sh
	cmake -S . -B $(SAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMW_SANITIZE=ON

# ASan frames are several times larger (json.encode's 5000 levels need ~25 MB): a 64 MB stack.
test-sanitize: deps $(SAN_BUILD)/build.ninja
	ninja -C $(SAN_BUILD) moonwire moonwire_unit
	$(SAN_ENV) $(SAN_BUILD)/moonwire_unit --gtest_brief=1
	ulimit -s 65536 && $(SAN_ENV) MOONWIRE_BIN=$(abspath $(SAN_BUILD)/moonwire) \
	  $(SAN_BUILD)/moonwire test tests

# libFuzzer targets (clang; not part of `make test`): each runs FUZZ_SECONDS from its seeds.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz:
	tools/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	tools/bench/run.sh $(BUILD)

# Soak tests (not part of `make test`): 10,000 TCP/WebSocket/HTTP connections opened and closed,
# a slow consumer under broadcast, SIGTERM under load. A few minutes; SOAK_CONNS=100000 for longer.
# See tools/soak/run.sh and docs/reliability.md.
soak: deps configure
	tools/soak/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)
