// buffer: CopperMoon's binary buffer. A byte array with a 1-based cursor; reads and writes of
// fixed-width integers and floats in either byte order, strings, slices and encodings.
//
// Layout: the object is a small userdata (Buffer) whose first user value is a second, plain
// userdata holding the bytes. So Lua's collector sees (and accounts for) every byte, a buffer
// needs no __gc, and an error raised anywhere leaks nothing. Growth allocates a larger block
// (capacity doubles) and copies; `data` always points into the current block.
#include "stdlib/buffer.hpp"

#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "runtime/errors.hpp"
#include "runtime/lua.hpp"
#include "stdlib/encoding.hpp"
#include "stdlib/modules.hpp"

namespace mw {
namespace {

constexpr const char* kBufferType = "moonwire.buffer";
// The largest buffer: 2 GiB. Larger sizes raise EINVAL (buffer.new) or ENOMEM (growth).
constexpr size_t kMaxSize = size_t(1) << 31;
constexpr lua_Integer kMaxSizeInt = lua_Integer(kMaxSize);
char kEmpty[1] = {0};

struct Buffer {
  char* data;  // the block (user value 1), or kEmpty
  size_t len;  // bytes in use
  size_t cap;  // size of the block
  size_t pos;  // the cursor, 0-based: 0..len
};

inline Buffer* check_buffer(lua_State* L, int idx) { return static_cast<Buffer*>(check_udata(L, idx, kBufferType)); }
inline Buffer* to_buffer(lua_State* L, int idx) { return static_cast<Buffer*>(test_udata(L, idx, kBufferType)); }

// ---------------------------------------------------------------------------------------------
// Errors

// The name of the running method: from the call site, or (under pcall) by finding the running
// function among the methods. Null if neither works. May leave values on the stack.
const char* method_name(lua_State* L) {
  lua_Debug ar;
  if (!lua_getstack(L, 0, &ar)) return nullptr;
  if (lua_getinfo(L, "n", &ar) && ar.name && std::strcmp(ar.name, "?") != 0) return ar.name;
  lua_getinfo(L, "f", &ar);  // pushes the running function
  int fn = lua_gettop(L);
  luaL_getmetatable(L, kBufferType);
  if (lua_getfield(L, -1, "__index") != LUA_TTABLE) return nullptr;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_rawequal(L, -1, fn) && lua_type(L, -2) == LUA_TSTRING) {
      lua_pop(L, 1);
      return lua_tostring(L, -1);  // the key stays on the stack
    }
    lua_pop(L, 1);
  }
  return nullptr;
}

// Raises ERANGE "buffer:<method>: <text>": a position or range outside the buffer.
[[noreturn]] void range_error(lua_State* L, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char* text = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  const char* name = method_name(L);
  if (name) raisef(L, "ERANGE", "buffer:%s: %s", name, text);
  raisef(L, "ERANGE", "buffer: %s", text);
}

// "need 4 bytes at position 7, only 2 left (length 8)"
[[noreturn]] void underflow(lua_State* L, size_t n, size_t at, size_t len) {
  range_error(L, "need %I byte%s at position %I, only %I left (length %I)", lua_Integer(n), n == 1 ? "" : "s",
              lua_Integer(at + 1), lua_Integer(at <= len ? len - at : 0), lua_Integer(len));
}

// ---------------------------------------------------------------------------------------------
// Storage

// Makes room for `need` bytes in the buffer at stack index idx (absolute). Exact: the block
// gets exactly `need` bytes (new buffers); otherwise the capacity at least doubles.
void reserve(lua_State* L, Buffer* b, int idx, size_t need, bool exact) {
  if (need <= b->cap) return;
  if (need > kMaxSize)
    raisef(L, "ENOMEM", "buffer: %I bytes would exceed the largest buffer size (%I bytes)",
           static_cast<lua_Integer>(need), kMaxSizeInt);
  size_t cap = need;
  if (!exact) {
    cap = b->cap < 32 ? 32 : b->cap;
    while (cap < need) cap *= 2;
    if (cap > kMaxSize) cap = kMaxSize;
  }
  char* block = static_cast<char*>(lua_newuserdatauv(L, cap, 0));
  if (b->len) std::memcpy(block, b->data, b->len);
  lua_setiuservalue(L, idx, 1);
  b->data = block;
  b->cap = cap;
}

// Pushes a new, empty buffer with room for `cap` bytes.
Buffer* new_buffer(lua_State* L, size_t cap) {
  auto* b = static_cast<Buffer*>(lua_newuserdatauv(L, sizeof(Buffer), 1));
  b->data = kEmpty;
  b->len = b->cap = b->pos = 0;
  luaL_setmetatable(L, kBufferType);
  if (cap) reserve(L, b, lua_gettop(L), cap, true);
  return b;
}

Buffer* new_buffer_from(lua_State* L, std::string_view bytes) {
  Buffer* b = new_buffer(L, bytes.size());
  if (!bytes.empty()) std::memcpy(b->data, bytes.data(), bytes.size());
  b->len = bytes.size();
  return b;
}

// ---------------------------------------------------------------------------------------------
// Argument helpers

// A size argument: 0..2 GiB, else EINVAL.
size_t check_size(lua_State* L, int idx) {
  lua_Integer n = luaL_checkinteger(L, idx);
  check_value(L, n >= 0 && n <= kMaxSizeInt, idx, "size must be 0..2147483648");
  return static_cast<size_t>(n);
}

// A byte value: 0..255, else EINVAL.
unsigned char check_byte(lua_State* L, int idx) {
  lua_Integer v = luaL_checkinteger(L, idx);
  check_value(L, v >= 0 && v <= 255, idx, "byte must be 0..255");
  return static_cast<unsigned char>(v);
}
unsigned char opt_byte(lua_State* L, int idx) { return lua_isnoneornil(L, idx) ? 0 : check_byte(L, idx); }

// An optional absolute position (1-based) for a read of `n` bytes: pos..pos+n-1 must lie in
// the buffer. None/nil: the cursor (checked the same way).
inline size_t read_at(lua_State* L, const Buffer* b, int idx, size_t n) {
  if (lua_isnoneornil(L, idx)) {
    if (n > b->len - b->pos) underflow(L, n, b->pos, b->len);
    return b->pos;
  }
  lua_Integer p = luaL_checkinteger(L, idx);
  if (p < 1 || p > lua_Integer(b->len) + 1)
    range_error(L, "position %I is out of range 1..%I", p, lua_Integer(b->len) + 1);
  if (n > b->len - size_t(p - 1)) underflow(L, n, size_t(p - 1), b->len);
  return static_cast<size_t>(p - 1);
}

// An optional absolute position for a write: 1..len+1 (a write may extend the buffer, never
// leave a gap). None/nil: the cursor.
inline size_t write_at(lua_State* L, const Buffer* b, int idx) {
  if (lua_isnoneornil(L, idx)) return b->pos;
  lua_Integer p = luaL_checkinteger(L, idx);
  if (p < 1 || p > lua_Integer(b->len) + 1)
    range_error(L, "position %I is out of range 1..%I", p, lua_Integer(b->len) + 1);
  return static_cast<size_t>(p - 1);
}

// An inclusive 1-based range [first, last] at idx, idx+1 (defaults 1 and #b), as string.sub
// without negative indices: 1 <= first <= len+1 and first-1 <= last <= len (first = last+1 is
// the empty range). Returns the 0-based offset; *count gets the length.
size_t check_range(lua_State* L, const Buffer* b, int idx, size_t* count) {
  lua_Integer len = lua_Integer(b->len);
  lua_Integer first = luaL_optinteger(L, idx, 1);
  lua_Integer last = luaL_optinteger(L, idx + 1, len);
  if (first < 1 || first > len + 1 || last < first - 1 || last > len)
    range_error(L, "range %I..%I is outside the buffer (length %I)", first, last, len);
  *count = static_cast<size_t>(last - first + 1);
  return static_cast<size_t>(first - 1);
}

// ---------------------------------------------------------------------------------------------
// Fixed-width reads and writes

template <size_t N>
using Uint = std::conditional_t<N == 1, uint8_t,
                                std::conditional_t<N == 2, uint16_t, std::conditional_t<N == 4, uint32_t, uint64_t>>>;

template <class U>
inline U bswap(U v) {
  if constexpr (sizeof(U) == 1) return v;
  else if constexpr (sizeof(U) == 2) return __builtin_bswap16(v);
  else if constexpr (sizeof(U) == 4) return __builtin_bswap32(v);
  else return __builtin_bswap64(v);
}

template <class T, bool BE>
inline T load(const char* p) {
  Uint<sizeof(T)> u;
  std::memcpy(&u, p, sizeof u);
  if constexpr (BE != (std::endian::native == std::endian::big)) u = bswap(u);
  T v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

template <class T, bool BE>
inline void store(char* p, T v) {
  Uint<sizeof(T)> u;
  std::memcpy(&u, &v, sizeof u);
  if constexpr (BE != (std::endian::native == std::endian::big)) u = bswap(u);
  std::memcpy(p, &u, sizeof u);
}

template <class T> constexpr const char* kTypeName = "";
template <> constexpr const char* kTypeName<int8_t> = "Int8";
template <> constexpr const char* kTypeName<uint8_t> = "UInt8";
template <> constexpr const char* kTypeName<int16_t> = "Int16";
template <> constexpr const char* kTypeName<uint16_t> = "UInt16";
template <> constexpr const char* kTypeName<int32_t> = "Int32";
template <> constexpr const char* kTypeName<uint32_t> = "UInt32";

// buf:readXxx([pos]): at the cursor (which advances) or at `pos` (the cursor stays).
template <class T, bool BE>
int l_read(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  bool cursor = lua_isnoneornil(L, 2);
  size_t at = read_at(L, b, 2, sizeof(T));
  T v = load<T, BE>(b->data + at);
  if (cursor) b->pos = at + sizeof(T);
  if constexpr (std::is_floating_point_v<T>) lua_pushnumber(L, static_cast<lua_Number>(v));
  else lua_pushinteger(L, static_cast<lua_Integer>(v));  // UInt64 >= 2^63 wraps to negative
  return 1;
}

// A double as a float, rounding as IEEE does (a finite value beyond the float range becomes
// FLT_MAX or infinity instead of undefined behaviour).
inline float to_float(double d) {
  if (std::fabs(d) > FLT_MAX && std::isfinite(d)) {
    constexpr double kHalfwayToInf = 0x1.ffffffp+127;
    float big = std::fabs(d) < kHalfwayToInf ? FLT_MAX : std::numeric_limits<float>::infinity();
    return d > 0 ? big : -big;
  }
  return static_cast<float>(d);
}

// buf:writeXxx(value[, pos]) → buf: at the cursor (which advances) or at `pos`; grows the
// buffer when the write passes its end.
template <class T, bool BE>
int l_write(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  T v;
  if constexpr (std::is_floating_point_v<T>) {
    lua_Number d = luaL_checknumber(L, 2);
    if constexpr (sizeof(T) == 4) v = to_float(d);
    else v = d;
  } else {
    lua_Integer i = luaL_checkinteger(L, 2);
    if constexpr (sizeof(T) < 8) {
      if (i < lua_Integer(std::numeric_limits<T>::min()) || i > lua_Integer(std::numeric_limits<T>::max())) {
        lua_pushfstring(L, "value %I is out of range for %s (%I..%I)", i, kTypeName<T>,
                        lua_Integer(std::numeric_limits<T>::min()), lua_Integer(std::numeric_limits<T>::max()));
        value_error(L, 2, lua_tostring(L, -1));
      }
    }
    v = static_cast<T>(i);  // 64 bits: any integer, UInt64 as the same bits as Int64
  }
  bool cursor = lua_isnoneornil(L, 3);
  size_t at = write_at(L, b, 3);
  size_t end = at + sizeof(T);
  if (end > b->cap) reserve(L, b, 1, end, false);
  store<T, BE>(b->data + at, v);
  if (end > b->len) b->len = end;
  if (cursor) b->pos = end;
  lua_settop(L, 1);
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Methods

int l_tell(lua_State* L) {
  lua_pushinteger(L, lua_Integer(check_buffer(L, 1)->pos + 1));
  return 1;
}

int l_seek(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  lua_Integer p = luaL_checkinteger(L, 2);
  if (p < 1 || p > lua_Integer(b->len) + 1)
    range_error(L, "position %I is out of range 1..%I", p, lua_Integer(b->len) + 1);
  b->pos = static_cast<size_t>(p - 1);
  lua_settop(L, 1);
  return 1;
}

int l_reset(lua_State* L) {
  check_buffer(L, 1)->pos = 0;
  lua_settop(L, 1);
  return 1;
}

int l_remaining(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  lua_pushinteger(L, lua_Integer(b->len - b->pos));
  return 1;
}

int l_len(lua_State* L) {
  lua_pushinteger(L, lua_Integer(check_buffer(L, 1)->len));
  return 1;
}

int l_capacity(lua_State* L) {
  lua_pushinteger(L, lua_Integer(check_buffer(L, 1)->cap));
  return 1;
}

// The 0-based offset of byte index i (1..len), else ERANGE.
size_t check_index(lua_State* L, const Buffer* b, int idx) {
  lua_Integer i = luaL_checkinteger(L, idx);
  if (i < 1 || i > lua_Integer(b->len)) {
    if (b->len == 0) range_error(L, "index %I is out of range (the buffer is empty)", i);
    range_error(L, "index %I is out of range 1..%I", i, lua_Integer(b->len));
  }
  return static_cast<size_t>(i - 1);
}

int l_get(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  size_t i = check_index(L, b, 2);
  lua_pushinteger(L, static_cast<unsigned char>(b->data[i]));
  return 1;
}

int l_set(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  size_t i = check_index(L, b, 2);
  b->data[i] = static_cast<char>(check_byte(L, 3));
  lua_settop(L, 1);
  return 1;
}

// buf:readString([n[, pos]]): n bytes (default: all that remain) at the cursor or at pos.
int l_read_string(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  bool cursor = lua_isnoneornil(L, 3);
  size_t n;
  if (lua_isnoneornil(L, 2)) {
    size_t from = cursor ? b->pos : read_at(L, b, 3, 0);
    n = b->len - from;
  } else {
    lua_Integer k = luaL_checkinteger(L, 2);
    check_value(L, k >= 0, 2, "length must not be negative");
    n = k > kMaxSizeInt ? kMaxSize + 1 : static_cast<size_t>(k);
  }
  size_t at = read_at(L, b, 3, n);
  lua_pushlstring(L, b->data + at, n);
  if (cursor) b->pos = at + n;
  return 1;
}

// buf:writeString(s[, pos]) → #s. s may be a buffer, even this one.
int l_write_string(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  std::string_view s = check_bytes(L, 2);
  bool cursor = lua_isnoneornil(L, 3);
  size_t at = write_at(L, b, 3);
  size_t end = at + s.size();
  if (end > b->cap) {
    bool self = s.data() == b->data && !s.empty();
    reserve(L, b, 1, end, false);
    if (self) s = {b->data, s.size()};  // the old block may be collected from now on
  }
  if (!s.empty()) std::memmove(b->data + at, s.data(), s.size());
  if (end > b->len) b->len = end;
  if (cursor) b->pos = end;
  lua_pushinteger(L, lua_Integer(s.size()));
  return 1;
}

// buf:slice([first[, last]]) → a new buffer with a copy of bytes first..last.
int l_slice(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  size_t n;
  size_t at = check_range(L, b, 2, &n);
  Buffer* out = new_buffer(L, n);
  if (n) std::memcpy(out->data, b->data + at, n);
  out->len = n;
  return 1;
}

// buf:copy(target[, target_start[, first[, last]]]) → bytes copied. Copies bytes first..last of
// buf into target at target_start (1..#target+1), growing target as needed. Overlap is fine.
int l_copy(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  Buffer* t = check_buffer(L, 2);
  lua_Integer ts = luaL_optinteger(L, 3, 1);
  if (ts < 1 || ts > lua_Integer(t->len) + 1)
    range_error(L, "target position %I is out of range 1..%I", ts, lua_Integer(t->len) + 1);
  size_t n;
  size_t from = check_range(L, b, 4, &n);
  size_t at = static_cast<size_t>(ts - 1);
  size_t end = at + n;
  if (end > t->cap) reserve(L, t, 2, end, false);  // b->data is reread below: t may be b
  if (n) std::memmove(t->data + at, b->data + from, n);
  if (end > t->len) t->len = end;
  lua_pushinteger(L, lua_Integer(n));
  return 1;
}

// buf:fill(byte[, first[, last]]) → buf
int l_fill(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  unsigned char v = check_byte(L, 2);
  size_t n;
  size_t at = check_range(L, b, 3, &n);
  if (n) std::memset(b->data + at, v, n);
  lua_settop(L, 1);
  return 1;
}

// buf:clear() → buf: every byte 0, the cursor at 1 (the length stays).
int l_clear(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  if (b->len) std::memset(b->data, 0, b->len);
  b->pos = 0;
  lua_settop(L, 1);
  return 1;
}

int l_to_string(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  lua_pushlstring(L, b->data, b->len);
  return 1;
}

int l_to_hex(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  luaL_Buffer out;
  char* p = luaL_buffinitsize(L, &out, 2 * b->len);
  hex_encode({b->data, b->len}, p);
  luaL_pushresultsize(&out, 2 * b->len);
  return 1;
}

int l_to_base64(lua_State* L) {
  Buffer* b = check_buffer(L, 1);
  size_t n = base64_encoded_size(b->len, false);
  luaL_Buffer out;
  char* p = luaL_buffinitsize(L, &out, n);
  base64_encode({b->data, b->len}, p, false);
  luaL_pushresultsize(&out, n);
  return 1;
}

int m_tostring(lua_State* L) {
  lua_pushfstring(L, "Buffer(%I bytes)", lua_Integer(check_buffer(L, 1)->len));
  return 1;
}

int m_eq(lua_State* L) {
  Buffer* a = to_buffer(L, 1);
  Buffer* b = to_buffer(L, 2);
  lua_pushboolean(L, a && b && a->len == b->len && (a->len == 0 || std::memcmp(a->data, b->data, a->len) == 0));
  return 1;
}

// a .. b with a buffer on either side (and a string, number or buffer on the other): a new
// buffer.
int m_concat(lua_State* L) {
  std::string_view a = check_bytes(L, 1);
  std::string_view b = check_bytes(L, 2);
  if (a.size() + b.size() > kMaxSize)
    raisef(L, "ENOMEM", "buffer: %I bytes would exceed the largest buffer size (%I bytes)",
           lua_Integer(a.size() + b.size()), kMaxSizeInt);
  Buffer* out = new_buffer(L, a.size() + b.size());
  if (!a.empty()) std::memcpy(out->data, a.data(), a.size());
  if (!b.empty()) std::memcpy(out->data + a.size(), b.data(), b.size());
  out->len = a.size() + b.size();
  return 1;
}

// ---------------------------------------------------------------------------------------------
// Module functions

// buffer.new([size]): size zero bytes.
int l_new(lua_State* L) {
  size_t n = lua_isnoneornil(L, 1) ? 0 : check_size(L, 1);
  Buffer* b = new_buffer(L, n);
  if (n) std::memset(b->data, 0, n);
  b->len = n;
  return 1;
}

// buffer.alloc(size[, fill])
int l_alloc(lua_State* L) {
  size_t n = check_size(L, 1);
  unsigned char v = opt_byte(L, 2);
  Buffer* b = new_buffer(L, n);
  if (n) std::memset(b->data, v, n);
  b->len = n;
  return 1;
}

// buffer.from(string | buffer | {bytes...})
int l_from(lua_State* L) {
  if (lua_type(L, 1) == LUA_TTABLE) {
    lua_Integer n = luaL_len(L, 1);
    check_value(L, n <= kMaxSizeInt, 1, "too many bytes");
    for (lua_Integer i = 1; i <= n; ++i) {  // check every entry before allocating
      int isint;
      lua_geti(L, 1, i);
      lua_Integer v = lua_tointegerx(L, -1, &isint);
      lua_pop(L, 1);
      if (!isint || v < 0 || v > 255) {
        lua_pushfstring(L, "entry %I must be a byte 0..255", i);
        value_error(L, 1, lua_tostring(L, -1));
      }
    }
    Buffer* b = new_buffer(L, static_cast<size_t>(n < 0 ? 0 : n));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_geti(L, 1, i);
      b->data[i - 1] = static_cast<char>(lua_tointeger(L, -1));
      lua_pop(L, 1);
    }
    b->len = static_cast<size_t>(n < 0 ? 0 : n);
    return 1;
  }
  if (lua_type(L, 1) != LUA_TSTRING && lua_type(L, 1) != LUA_TNUMBER && !to_buffer(L, 1))
    luaL_typeerror(L, 1, "string, buffer or table");
  new_buffer_from(L, check_bytes(L, 1));
  return 1;
}

int l_from_hex(lua_State* L) {
  std::string_view in = check_bytes(L, 1);
  Buffer* b = new_buffer(L, in.size() / 2);
  DecodeResult r = hex_decode(in, b->data);
  if (r.error) raise_decode_error(L, "buffer.fromHex", "hex", in, r);
  b->len = r.size;
  return 1;
}

int l_from_base64(lua_State* L) {
  std::string_view in = check_bytes(L, 1);
  Buffer* b = new_buffer(L, base64_decoded_max(in.size()));
  DecodeResult r = base64_decode(in, b->data, false);
  if (r.error) raise_decode_error(L, "buffer.fromBase64", "base64", in, r);
  b->len = r.size;
  return 1;
}

// buffer.concat(...): the bytes of every argument (buffers or strings), in order.
int l_concat(lua_State* L) {
  int n = lua_gettop(L);
  size_t total = 0;
  for (int i = 1; i <= n; ++i) {
    total += check_bytes(L, i).size();
    if (total > kMaxSize)
      raisef(L, "ENOMEM", "buffer.concat: more than the largest buffer size (%I bytes)", kMaxSizeInt);
  }
  Buffer* b = new_buffer(L, total);
  for (int i = 1; i <= n; ++i) {
    std::string_view s = check_bytes(L, i);
    if (!s.empty()) std::memcpy(b->data + b->len, s.data(), s.size());
    b->len += s.size();
  }
  return 1;
}

int l_is_buffer(lua_State* L) {
  lua_pushboolean(L, to_buffer(L, 1) != nullptr);
  return 1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shared helpers (buffer.hpp)

std::string_view check_bytes(lua_State* L, int idx) {
  size_t n;
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char* s = lua_tolstring(L, idx, &n);
    return {s, n};
  }
  if (Buffer* b = to_buffer(L, idx)) return {b->data, b->len};
  const char* s = lua_tolstring(L, idx, &n);  // numbers, as luaL_checklstring converts them
  if (!s) luaL_typeerror(L, idx, "string or buffer");
  return {s, n};
}

std::string_view opt_bytes(lua_State* L, int idx, std::string_view def) {
  return lua_isnoneornil(L, idx) ? def : check_bytes(L, idx);
}

std::string_view check_data(lua_State* L, int idx) {
  if (Buffer* b = to_buffer(L, idx)) {
    idx = lua_absindex(L, idx);
    lua_pushlstring(L, b->data, b->len);
    lua_replace(L, idx);
  }
  return check_bytes(L, idx);
}

bool is_buffer(lua_State* L, int idx) { return to_buffer(L, idx) != nullptr; }

void push_buffer(lua_State* L, std::string_view bytes) { new_buffer_from(L, bytes); }

int open_buffer(lua_State* L) {
  static const luaL_Reg methods[] = {
      {"tell", l_tell},
      {"seek", l_seek},
      {"reset", l_reset},
      {"remaining", l_remaining},
      {"len", l_len},
      {"capacity", l_capacity},
      {"get", l_get},
      {"set", l_set},
      {"readUInt8", l_read<uint8_t, false>},
      {"readInt8", l_read<int8_t, false>},
      {"readUInt16LE", l_read<uint16_t, false>},
      {"readUInt16BE", l_read<uint16_t, true>},
      {"readInt16LE", l_read<int16_t, false>},
      {"readInt16BE", l_read<int16_t, true>},
      {"readUInt32LE", l_read<uint32_t, false>},
      {"readUInt32BE", l_read<uint32_t, true>},
      {"readInt32LE", l_read<int32_t, false>},
      {"readInt32BE", l_read<int32_t, true>},
      {"readUInt64LE", l_read<uint64_t, false>},
      {"readUInt64BE", l_read<uint64_t, true>},
      {"readInt64LE", l_read<int64_t, false>},
      {"readInt64BE", l_read<int64_t, true>},
      {"readFloatLE", l_read<float, false>},
      {"readFloatBE", l_read<float, true>},
      {"readDoubleLE", l_read<double, false>},
      {"readDoubleBE", l_read<double, true>},
      {"writeUInt8", l_write<uint8_t, false>},
      {"writeInt8", l_write<int8_t, false>},
      {"writeUInt16LE", l_write<uint16_t, false>},
      {"writeUInt16BE", l_write<uint16_t, true>},
      {"writeInt16LE", l_write<int16_t, false>},
      {"writeInt16BE", l_write<int16_t, true>},
      {"writeUInt32LE", l_write<uint32_t, false>},
      {"writeUInt32BE", l_write<uint32_t, true>},
      {"writeInt32LE", l_write<int32_t, false>},
      {"writeInt32BE", l_write<int32_t, true>},
      {"writeUInt64LE", l_write<uint64_t, false>},
      {"writeUInt64BE", l_write<uint64_t, true>},
      {"writeInt64LE", l_write<int64_t, false>},
      {"writeInt64BE", l_write<int64_t, true>},
      {"writeFloatLE", l_write<float, false>},
      {"writeFloatBE", l_write<float, true>},
      {"writeDoubleLE", l_write<double, false>},
      {"writeDoubleBE", l_write<double, true>},
      {"readString", l_read_string},
      {"writeString", l_write_string},
      {"slice", l_slice},
      {"copy", l_copy},
      {"fill", l_fill},
      {"clear", l_clear},
      {"toString", l_to_string},
      {"bytes", l_to_string},
      {"toHex", l_to_hex},
      {"toBase64", l_to_base64},
      {nullptr, nullptr},
  };
  static const luaL_Reg metamethods[] = {
      {"__len", l_len},       {"__tostring", m_tostring}, {"__eq", m_eq},
      {"__concat", m_concat}, {nullptr, nullptr},
  };
  new_class(L, kBufferType, methods, metamethods);

  static const luaL_Reg funcs[] = {
      {"new", l_new},           {"alloc", l_alloc},   {"from", l_from},          {"fromHex", l_from_hex},
      {"fromBase64", l_from_base64}, {"concat", l_concat}, {"isBuffer", l_is_buffer}, {nullptr, nullptr},
  };
  luaL_newlib(L, funcs);
  return 1;
}

}  // namespace mw
