// runtime/pool (free lists of small blocks, the Lua allocator on them) and the class checks of
// runtime/lua.hpp (check_udata / test_udata).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "runtime/engine.hpp"
#include "runtime/lua.hpp"
#include "runtime/pool.hpp"
#include "stdlib/stdlib.hpp"

namespace {

TEST(Pool, FreedBlockIsReusedForTheSameSizeClass) {
  if (!mw::kPoolEnabled) GTEST_SKIP() << "pool disabled (AddressSanitizer build)";
  void* a = mw::pool_allocate(40);
  std::memset(a, 0xab, 40);
  mw::pool_deallocate(a, 40);
  void* b = mw::pool_allocate(33);  // same 16-byte class as 40 (33..48)
  EXPECT_EQ(a, b);
  std::memset(b, 0xcd, 48);  // the whole class size is usable
  mw::pool_deallocate(b, 33);
}

TEST(Pool, DifferentClassesDoNotShareBlocks) {
  if (!mw::kPoolEnabled) GTEST_SKIP() << "pool disabled (AddressSanitizer build)";
  void* a = mw::pool_allocate(16);
  mw::pool_deallocate(a, 16);
  void* b = mw::pool_allocate(64);
  EXPECT_NE(a, b);
  mw::pool_deallocate(b, 64);
  EXPECT_EQ(mw::pool_allocate(16), a);
  mw::pool_deallocate(a, 16);
}

TEST(Pool, ZeroAndLargeSizes) {
  void* z = mw::pool_allocate(0);
  ASSERT_NE(z, nullptr);
  mw::pool_deallocate(z, 0);
  const size_t big = mw::kPoolMaxBlock + 1;
  void* l = mw::pool_allocate(big);  // straight from malloc
  ASSERT_NE(l, nullptr);
  std::memset(l, 1, big);
  mw::pool_deallocate(l, big);
  mw::pool_deallocate(nullptr, 8);  // no-op
}

TEST(Pool, EachClassKeepsABoundedAmountOfFreeMemory) {
  if (!mw::kPoolEnabled) GTEST_SKIP() << "pool disabled (AddressSanitizer build)";
  const size_t size = 512;
  const size_t n = 4 * mw::kPoolClassBytes / size;
  std::vector<void*> blocks;
  for (size_t i = 0; i < n; ++i) blocks.push_back(mw::pool_allocate(size));
  size_t before = mw::pool_cached_bytes();
  for (void* p : blocks) mw::pool_deallocate(p, size);
  size_t kept = mw::pool_cached_bytes() - before;
  EXPECT_GT(kept, 0u);
  EXPECT_LE(kept, mw::kPoolClassBytes);  // the rest went back to malloc
  for (size_t i = 0; i < n; ++i) blocks[i] = mw::pool_allocate(size);
  EXPECT_EQ(mw::pool_cached_bytes(), before);
  for (void* p : blocks) mw::pool_deallocate(p, size);
}

TEST(Pool, AllocatorWorksWithAllocateShared) {
  struct Obj {
    int a[10];
  };
  auto p = std::allocate_shared<Obj>(mw::PoolAllocator<Obj>());
  p->a[9] = 42;
  std::weak_ptr<Obj> w = p;
  p.reset();
  EXPECT_TRUE(w.expired());
  EXPECT_TRUE(mw::PoolAllocator<int>() == mw::PoolAllocator<Obj>());
}

TEST(PoolLuaAlloc, GrowShrinkAndFreeKeepTheContents) {
  char* p = static_cast<char*>(mw::pool_lua_alloc(nullptr, nullptr, LUA_TTABLE, 10));  // osize = a type tag
  ASSERT_NE(p, nullptr);
  std::memcpy(p, "0123456789", 10);
  p = static_cast<char*>(mw::pool_lua_alloc(nullptr, p, 10, 12));  // same class: same block
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
  p = static_cast<char*>(mw::pool_lua_alloc(nullptr, p, 12, 5000));  // into malloc territory
  EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
  std::memset(p + 10, 'x', 4990);
  p = static_cast<char*>(mw::pool_lua_alloc(nullptr, p, 5000, 9000));  // realloc
  EXPECT_EQ(std::memcmp(p, "0123456789xxxx", 14), 0);
  p = static_cast<char*>(mw::pool_lua_alloc(nullptr, p, 9000, 7));  // back to a pool block
  EXPECT_EQ(std::memcmp(p, "0123456", 7), 0);
  EXPECT_EQ(mw::pool_lua_alloc(nullptr, p, 7, 0), nullptr);  // free
  EXPECT_EQ(mw::pool_lua_alloc(nullptr, nullptr, 0, 0), nullptr);
}

TEST(PoolLuaAlloc, AnEngineRunsScriptsOnIt) {
  mw::Engine e{mw::open_stdlib};
  ASSERT_EQ(luaL_loadstring(e.L(),
                            "local t = {} for i = 1, 20000 do t[i] = {i, tostring(i) .. string.rep('x', i % 300)} end "
                            "collectgarbage() n = 0 for i = 1, #t do n = n + #t[i][2] end"),
            LUA_OK);
  EXPECT_EQ(e.run_main(0), 0);
  lua_getglobal(e.L(), "n");
  EXPECT_GT(lua_tointeger(e.L(), -1), 20000);
  lua_pop(e.L(), 1);
}

// --- check_udata / test_udata ---

constexpr const char* kBoxType = "test.box";
constexpr const char* kOtherType = "test.other";

int box_get(lua_State* L) {
  lua_pushinteger(L, *static_cast<int*>(mw::check_udata(L, 1, kBoxType)));
  return 1;
}

int is_box(lua_State* L) {
  lua_pushboolean(L, mw::test_udata(L, 1, kBoxType) != nullptr);
  return 1;
}

class ClassCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    lua_State* L = e.L();
    const luaL_Reg methods[] = {{"get", box_get}, {nullptr, nullptr}};
    mw::new_class(L, kBoxType, methods, nullptr);
    mw::new_class(L, kOtherType, methods, nullptr);
    *static_cast<int*>(lua_newuserdatauv(L, sizeof(int), 0)) = 7;
    luaL_setmetatable(L, kBoxType);
    lua_setglobal(L, "box");
    lua_newuserdatauv(L, sizeof(int), 0);
    luaL_setmetatable(L, kOtherType);
    lua_setglobal(L, "other");
    lua_register(L, "box_get", box_get);
    lua_register(L, "is_box", is_box);
  }
  std::string run(const char* code) {
    lua_State* L = e.L();
    if (luaL_dostring(L, code) != LUA_OK) {
      std::string err = lua_tostring(L, -1);
      lua_pop(L, 1);
      return err;
    }
    std::string r = lua_isstring(L, -1) ? lua_tostring(L, -1) : "";
    lua_settop(L, 0);
    return r;
  }
  mw::Engine e{mw::open_stdlib};
};

TEST_F(ClassCheck, AcceptsItsOwnClass) {
  EXPECT_EQ(run("return box:get()"), "7");
  EXPECT_EQ(run("return tostring(is_box(box))"), "true");
}

TEST_F(ClassCheck, RejectsOtherClassesAndValuesWithTheSameErrorAsLuaL) {
  EXPECT_EQ(run("return tostring(is_box(other))"), "false");
  EXPECT_NE(run("return box_get(other)").find("test.box expected, got test.other"), std::string::npos);
  EXPECT_NE(run("return box_get(42)").find("test.box expected, got number"), std::string::npos);
  EXPECT_NE(run("return box_get()").find("test.box expected, got no value"), std::string::npos);
  EXPECT_EQ(run("return tostring(is_box(io.stdout))"), "false");  // a userdata of another library
}

TEST_F(ClassCheck, ACopiedMetatableOnATableIsNotTheClass) {
  // The tag is visible to Lua, but only C code makes full userdata.
  EXPECT_NE(run("local fake = setmetatable({}, getmetatable(box)) return box_get(fake)").find("test.box expected"),
            std::string::npos);
}

}  // namespace
