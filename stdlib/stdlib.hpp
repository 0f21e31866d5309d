#pragma once
// What the host hands the engine (Engine{open_stdlib}): every stdlib module, as globals and
// require-able names. Defined in stdlib/modules.cpp, the one place that knows all modules.
#include "runtime/lua.hpp"

namespace mw {
void open_stdlib(lua_State* L);
}  // namespace mw
