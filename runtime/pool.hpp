#pragma once
// Free lists of small blocks, one set per thread, for what the event loop makes and destroys on
// every I/O operation: Ops, Asio/Beast operation state, Lua tables and strings. Reusing a block
// from a free list is much cheaper than a trip through malloc/free (which, with thousands of
// frees in one GC sweep, also spills out of glibc's small per-thread cache).
//
// Blocks up to kPoolMaxBlock bytes come in 16-byte size classes; each class keeps at most
// kPoolClassBytes of free blocks, the rest goes back to malloc. Larger blocks go to malloc.
#include <boost/asio/bind_allocator.hpp>
#include <cstddef>
#include <functional>
#include <new>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace mw {

#if defined(__SANITIZE_ADDRESS__)
// Under AddressSanitizer every block goes back to malloc at once, so a use after free is caught.
inline constexpr bool kPoolEnabled = false;
#else
inline constexpr bool kPoolEnabled = true;
#endif
inline constexpr std::size_t kPoolMaxBlock = 1024;
inline constexpr std::size_t kPoolClassBytes = 256 * 1024;

void* pool_allocate(std::size_t size);
void pool_deallocate(void* p, std::size_t size);
// Bytes on this thread's free lists (tests, diagnostics).
std::size_t pool_cached_bytes();
// lua_Alloc on the pool (Lua passes the old size back, as the pool needs).
void* pool_lua_alloc(void* ud, void* ptr, std::size_t osize, std::size_t nsize);

// A standard allocator on the pool (std::allocate_shared, Asio's associated allocator).
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned type");
    return static_cast<T*>(pool_allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { pool_deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
};

// Hash containers whose nodes come from the pool (one node made and freed per connection or
// task is otherwise a malloc/free pair each).
template <class K, class V>
using PoolMap = std::unordered_map<K, V, std::hash<K>, std::equal_to<K>, PoolAllocator<std::pair<const K, V>>>;
template <class K>
using PoolSet = std::unordered_set<K, std::hash<K>, std::equal_to<K>, PoolAllocator<K>>;

// A completion handler whose operation state (Asio's, Beast's) is allocated from the pool.
template <class Handler>
auto pooled(Handler&& handler) {
  return boost::asio::bind_allocator(PoolAllocator<void>(), std::forward<Handler>(handler));
}

}  // namespace mw
