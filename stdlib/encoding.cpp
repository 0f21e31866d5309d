// Hex and base64 codecs (see encoding.hpp).
#include "stdlib/encoding.hpp"

#include <cstdint>

#include "runtime/errors.hpp"

namespace mw {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kB64Std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr uint8_t kInvalid = 0xFF;

struct DecodeTables {
  uint8_t hex[256];
  uint8_t std[256];
  uint8_t url[256];
  constexpr DecodeTables() : hex{}, std{}, url{} {
    for (int i = 0; i < 256; ++i) hex[i] = std[i] = url[i] = kInvalid;
    for (int i = 0; i < 10; ++i) hex['0' + i] = uint8_t(i);
    for (int i = 0; i < 6; ++i) hex['a' + i] = hex['A' + i] = uint8_t(10 + i);
    for (int i = 0; i < 64; ++i) {
      std[static_cast<unsigned char>(kB64Std[i])] = uint8_t(i);
      url[static_cast<unsigned char>(kB64Url[i])] = uint8_t(i);
    }
  }
};
constexpr DecodeTables kTables;

}  // namespace

void hex_encode(std::string_view in, char* out) {
  for (unsigned char c : in) {
    *out++ = kHexDigits[c >> 4];
    *out++ = kHexDigits[c & 15];
  }
}

DecodeResult hex_decode(std::string_view in, char* out) {
  DecodeResult r;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size();
  for (size_t i = 0; i + 1 < n; i += 2) {
    uint8_t hi = kTables.hex[p[i]], lo = kTables.hex[p[i + 1]];
    if (hi == kInvalid || lo == kInvalid) {
      r.error = DecodeResult::kBadChar;
      r.pos = hi == kInvalid ? i : i + 1;
      return r;
    }
    out[i / 2] = char(hi << 4 | lo);
  }
  if (n % 2) {
    r.error = kTables.hex[p[n - 1]] == kInvalid ? DecodeResult::kBadChar : DecodeResult::kOddLength;
    r.pos = n - 1;
    return r;
  }
  r.size = n / 2;
  return r;
}

size_t base64_encoded_size(size_t n, bool url) {
  if (!url) return (n + 2) / 3 * 4;
  return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

void base64_encode(std::string_view in, char* out, bool url) {
  const char* a = url ? kB64Url : kB64Std;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size(), i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8 | p[i + 2];
    *out++ = a[v >> 18];
    *out++ = a[(v >> 12) & 63];
    *out++ = a[(v >> 6) & 63];
    *out++ = a[v & 63];
  }
  size_t rest = n - i;
  if (rest == 0) return;
  uint32_t v = uint32_t(p[i]) << 16 | (rest == 2 ? uint32_t(p[i + 1]) << 8 : 0);
  *out++ = a[v >> 18];
  *out++ = a[(v >> 12) & 63];
  if (rest == 2) *out++ = a[(v >> 6) & 63];
  if (!url) {
    if (rest == 1) *out++ = '=';
    *out++ = '=';
  }
}

DecodeResult base64_decode(std::string_view in, char* out, bool url) {
  DecodeResult r;
  const uint8_t* t = url ? kTables.url : kTables.std;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  size_t n = in.size();
  // Padding: up to two '=' at the very end, completing a group of four.
  size_t end = n;
  while (end > 0 && p[end - 1] == '=' && n - end < 2) --end;
  if (end < n) {
    if (n % 4 != 0 || end % 4 < 2) {  // "ab=" or "abcde==" or "a==="
      r.error = DecodeResult::kBadPadding;
      r.pos = end;
      return r;
    }
  }
  size_t o = 0, i = 0;
  for (; i + 4 <= end; i += 4) {
    uint8_t a = t[p[i]], b = t[p[i + 1]], c = t[p[i + 2]], d = t[p[i + 3]];
    if ((a | b | c | d) & 0xC0) break;  // an invalid character: found below
    uint32_t v = uint32_t(a) << 18 | uint32_t(b) << 12 | uint32_t(c) << 6 | d;
    out[o++] = char(v >> 16);
    out[o++] = char(v >> 8);
    out[o++] = char(v);
  }
  for (size_t k = i; k < end; ++k) {
    if (t[p[k]] == kInvalid) {
      r.error = p[k] == '=' ? DecodeResult::kBadPadding : DecodeResult::kBadChar;
      r.pos = k;
      return r;
    }
  }
  size_t rest = end - i;  // 0..3 characters of a last, short group
  if (rest == 1) {
    r.error = DecodeResult::kBadLength;
    r.pos = i;
    return r;
  }
  if (rest >= 2) {
    uint32_t v = uint32_t(t[p[i]]) << 18 | uint32_t(t[p[i + 1]]) << 12 | (rest == 3 ? uint32_t(t[p[i + 2]]) << 6 : 0);
    out[o++] = char(v >> 16);
    if (rest == 3) out[o++] = char(v >> 8);
  }
  r.size = o;
  return r;
}

void raise_decode_error(lua_State* L, const char* fname, const char* what, std::string_view in,
                        const DecodeResult& r) {
  unsigned char c = r.pos < in.size() ? static_cast<unsigned char>(in[r.pos]) : 0;
  int pos = static_cast<int>(r.pos + 1 > 0x7fffffff ? 0x7fffffff : r.pos + 1);
  switch (r.error) {
    case DecodeResult::kBadChar:
      if (c >= 0x20 && c < 0x7f)
        raisef(L, "EINVAL", "%s: invalid %s input: unexpected character '%c' at position %d", fname, what, c, pos);
      {
        char hex[5] = {'0', 'x', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15], 0};
        raisef(L, "EINVAL", "%s: invalid %s input: unexpected byte %s at position %d", fname, what, hex, pos);
      }
    case DecodeResult::kOddLength:
      raisef(L, "EINVAL", "%s: invalid %s input: odd number of digits (%d): the last digit at position %d has no pair",
             fname, what, static_cast<int>(in.size()), pos);
    case DecodeResult::kBadLength:
      raisef(L, "EINVAL", "%s: invalid %s input: truncated: a single character in the last group at position %d",
             fname, what, pos);
    case DecodeResult::kBadPadding:
      raisef(L, "EINVAL", "%s: invalid %s input: misplaced '=' padding at position %d", fname, what, pos);
    case DecodeResult::kOk:
      break;
  }
  raisef(L, "EINVAL", "%s: invalid %s input", fname, what);
}

}  // namespace mw
