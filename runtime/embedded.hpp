#pragma once
#include <cstddef>

namespace mw {
// Lua modules compiled into the binary from stdlib/lua/*.lua (generated table, null-terminated).
// `source` is the module's precompiled bytecode (tools/embed/luac.cpp), named as its chunk
// name says ("@[moonwire]/<name>.lua"): luaL_loadbuffer's chunkname argument is ignored for it.
struct EmbeddedModule {
  const char* name;
  const char* source;
  size_t size;
};
extern const EmbeddedModule kEmbeddedModules[];
const EmbeddedModule* find_embedded(const char* name);
}  // namespace mw
