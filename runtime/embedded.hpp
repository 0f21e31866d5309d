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

// The LuaLS definition files types/*.lua as text ({file name, text, size}, null-terminated).
extern const EmbeddedModule kEmbeddedTypes[];
// `moonwire --types DIR`: writes them into DIR (created with its parents if missing, existing
// files replaced); prints what it wrote on stdout. Returns the exit code (1 and a message on
// stderr on failure).
int write_types(const char* dir);
}  // namespace mw
