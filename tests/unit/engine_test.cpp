#include <gtest/gtest.h>

#include "runtime/engine.hpp"

TEST(Engine, RunsMainChunk) {
  mw::Engine e;
  ASSERT_EQ(luaL_loadstring(e.L(), "x = 1 + 1"), LUA_OK);
  EXPECT_EQ(e.run_main(0), 0);
  lua_getglobal(e.L(), "x");
  EXPECT_EQ(lua_tointeger(e.L(), -1), 2);
}
