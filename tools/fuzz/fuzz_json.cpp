// json.decode through the Lua API, in the engine's own lua_State (the json module as scripts
// see it). The first byte picks decode options; the rest is the document. When a document
// decodes and its value encodes, the encoding must decode again and encode to the same text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "runtime/engine.hpp"
#include "stdlib/stdlib.hpp"

namespace {

const char* kHarness = R"lua(
local data, flags = ...
local opts = {
  allow_comments = flags & 1 ~= 0,
  allow_trailing_commas = flags & 2 ~= 0,
  null_as_nil = flags & 4 ~= 0,
  max_depth = (flags & 8 ~= 0) and 16 or nil,
}
local ok, v = pcall(json.decode, data, opts)
if not ok then
  assert(type(v) == "string" or type(v) == "table", "decode raised a " .. type(v))
  tostring(v)
  return
end
local ok2, s1 = pcall(json.encode, v, { sort_keys = true })
if not ok2 then return end  -- e.g. 1e999 decodes to inf, which does not encode
local v2 = json.decode(s1, { null_as_nil = opts.null_as_nil })
local s2 = json.encode(v2, { sort_keys = true })
if s1 ~= s2 then error("round trip differs:\n" .. s1 .. "\n" .. s2) end
json.encode(v, { pretty = true })
)lua";

struct Harness {
  mw::Engine engine{mw::open_stdlib};
  int ref = LUA_NOREF;
  Harness() {
    lua_State* L = engine.L();
    if (luaL_loadstring(L, kHarness) != LUA_OK) {
      std::fprintf(stderr, "%s\n", lua_tostring(L, -1));
      std::abort();
    }
    ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Harness* h = new Harness;  // lives for the whole run
  if (size == 0) return 0;
  lua_State* L = h->engine.L();
  lua_rawgeti(L, LUA_REGISTRYINDEX, h->ref);
  lua_pushlstring(L, reinterpret_cast<const char*>(data) + 1, size - 1);
  lua_pushinteger(L, data[0]);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    std::fprintf(stderr, "fuzz_json: %s\n", luaL_tolstring(L, -1, nullptr));
    std::abort();
  }
  lua_settop(L, 0);
  lua_gc(L, LUA_GCSTEP, 0);
  return 0;
}
