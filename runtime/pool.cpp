#include "runtime/pool.hpp"

#include <cstdlib>
#include <cstring>

namespace mw {

namespace {

constexpr std::size_t kGrain = 16;  // malloc's alignment; finer classes waste less
constexpr std::size_t kClasses = kPoolMaxBlock / kGrain;

struct FreeBlock {
  FreeBlock* next;
};

struct FreeList {
  FreeBlock* head;
  std::size_t count;
};

// Plain data (no destructor): still usable while other thread-local and static objects are
// destroyed after the lists were emptied at thread exit (`closed`).
struct Lists {
  FreeList lists[kClasses];
  bool closed;
};

thread_local Lists t_lists;

// Empties the free lists at thread exit; afterwards blocks go straight back to malloc.
struct ListsCleanup {
  ~ListsCleanup() {
    for (auto& l : t_lists.lists) {
      while (l.head) {
        FreeBlock* b = l.head;
        l.head = b->next;
        std::free(b);
      }
      l.count = 0;
    }
    t_lists.closed = true;
  }
};

thread_local ListsCleanup t_cleanup;

inline std::size_t class_of(std::size_t size) { return (size + kGrain - 1) / kGrain - 1; }

}  // namespace

void* pool_allocate(std::size_t size) {
  if (size == 0) size = 1;
  if (kPoolEnabled && size <= kPoolMaxBlock) {
    FreeList& l = t_lists.lists[class_of(size)];
    if (FreeBlock* b = l.head) {
      l.head = b->next;
      --l.count;
      return b;
    }
    (void)&t_cleanup;  // registers the thread-exit cleanup
    if (void* p = std::malloc((class_of(size) + 1) * kGrain)) return p;
  } else if (void* p = std::malloc(size)) {
    return p;
  }
  throw std::bad_alloc();
}

void pool_deallocate(void* p, std::size_t size) {
  if (!p) return;
  if (size == 0) size = 1;
  if (kPoolEnabled && size <= kPoolMaxBlock && !t_lists.closed) {
    std::size_t c = class_of(size);
    FreeList& l = t_lists.lists[c];
    if (l.count * (c + 1) * kGrain < kPoolClassBytes) {
      auto* b = static_cast<FreeBlock*>(p);
      b->next = l.head;
      l.head = b;
      ++l.count;
      return;
    }
  }
  std::free(p);
}

std::size_t pool_cached_bytes() {
  std::size_t n = 0;
  for (std::size_t c = 0; c < kClasses; ++c) n += t_lists.lists[c].count * (c + 1) * kGrain;
  return n;
}

void* pool_lua_alloc(void*, void* ptr, std::size_t osize, std::size_t nsize) {
  if (!ptr) osize = 0;  // then osize only tells the kind of object
  if (nsize == 0) {
    pool_deallocate(ptr, osize);
    return nullptr;
  }
  if (osize > kPoolMaxBlock && nsize > kPoolMaxBlock) return std::realloc(ptr, nsize);
  if (kPoolEnabled && ptr && class_of(osize) == class_of(nsize) && nsize <= kPoolMaxBlock) return ptr;  // same block
  void* n;
  try {
    n = pool_allocate(nsize);
  } catch (const std::bad_alloc&) {
    // Lua assumes shrinking never fails: keep the larger block (it is freed as the smaller).
    return ptr && nsize <= osize ? ptr : nullptr;
  }
  if (ptr) {
    std::memcpy(n, ptr, osize < nsize ? osize : nsize);
    pool_deallocate(ptr, osize);
  }
  return n;
}

}  // namespace mw
