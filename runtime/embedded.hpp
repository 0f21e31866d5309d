#pragma once
#include <cstddef>

namespace mw {
// Lua modules compiled into the binary from stdlib/lua/*.lua (generated table, null-terminated).
struct EmbeddedModule {
  const char* name;
  const char* source;
  size_t size;
};
extern const EmbeddedModule kEmbeddedModules[];
const EmbeddedModule* find_embedded(const char* name);
}  // namespace mw
