#pragma once
// The redis module's C++ core (`_redis_core`, used by stdlib/lua/redis.lua).
#include "runtime/lua.hpp"

namespace mw::net {
int open_redis_core(lua_State* L);
}  // namespace mw::net
