#pragma once
// Shared by the fuzzers that drive a whole moonwire Engine in-process: each input runs a Lua
// script (the input as `...`) as the main task of a fresh Engine, until the event loop is idle.
// The script reports a broken invariant by raising; the harness then aborts (a crash for
// libFuzzer). A fresh engine per input keeps inputs independent and lets LeakSanitizer see
// what one input leaked.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "runtime/engine.hpp"
#include "stdlib/stdlib.hpp"

namespace fuzz {

inline void run_script(const char* name, const char* script, const uint8_t* data, size_t size) {
  mw::Engine engine{mw::open_stdlib};
  lua_State* L = engine.L();
  if (luaL_loadbuffer(L, script, std::strlen(script), name) != LUA_OK) {
    std::fprintf(stderr, "%s: %s\n", name, lua_tostring(L, -1));
    std::abort();
  }
  lua_pushlstring(L, reinterpret_cast<const char*>(data), size);
  int code = engine.run_main(1);
  if (code != 0) {
    std::fprintf(stderr, "%s: the script failed (exit code %d)\n", name, code);
    std::abort();
  }
}

}  // namespace fuzz
