// `moonwire --types DIR`: writes the embedded LuaLS definitions (types/*.lua) for an editor.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/stat.h>

#include "runtime/embedded.hpp"

namespace mw {
namespace {

bool make_dirs(const std::string& dir) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i < dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (::mkdir(part.c_str(), 0777) != 0 && errno != EEXIST) return false;
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return false;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return false;
  }
  return true;
}

}  // namespace

int write_types(const char* dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  if (d.empty() || !make_dirs(d)) {
    std::fprintf(stderr, "moonwire: --types: cannot create directory '%s': %s\n", dir,
                 std::strerror(errno));
    return 1;
  }
  int n = 0;
  for (const EmbeddedModule* t = kEmbeddedTypes; t->name; ++t, ++n) {
    std::string path = d + "/" + t->name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    bool ok = f && std::fwrite(t->source, 1, t->size, f) == t->size;
    if (f && std::fclose(f) != 0) ok = false;
    if (!ok) {
      std::fprintf(stderr, "moonwire: --types: cannot write '%s': %s\n", path.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  std::printf("moonwire: wrote %d type definition files to %s\n", n, d.c_str());
  return 0;
}

}  // namespace mw
