#pragma once
// Hex and base64 (RFC 4648) codecs shared by crypto and buffer. Plain functions on caller-owned
// memory (a luaL_Buffer or a buffer object): nothing here allocates or raises, except
// raise_decode_error.
#include <cstddef>
#include <string_view>

#include "runtime/lua.hpp"

namespace mw {

// Lower-case hex: writes 2 * in.size() characters.
void hex_encode(std::string_view in, char* out);

// Base64 with the standard alphabet and '=' padding, or (url) the URL-safe alphabet
// ('-', '_') without padding. base64_encoded_size is the exact output size.
size_t base64_encoded_size(size_t n, bool url);
void base64_encode(std::string_view in, char* out, bool url);

// The outcome of a decode: `size` bytes written, or an error at byte offset `pos` of the input.
struct DecodeResult {
  enum Error { kOk, kBadChar, kOddLength, kBadLength, kBadPadding } error = kOk;
  size_t size = 0;
  size_t pos = 0;
};

// Hex digits of either case, an even number of them. `out` needs in.size() / 2 bytes.
DecodeResult hex_decode(std::string_view in, char* out);

// Base64: the standard alphabet ('+', '/') or (url) the URL-safe one ('-', '_'). '=' padding
// is optional in both, but when present it must complete the last group of four; no
// whitespace. Unused low bits of the last character are ignored. `out` needs
// base64_decoded_max(in.size()) bytes.
inline size_t base64_decoded_max(size_t n) { return n / 4 * 3 + 3; }
DecodeResult base64_decode(std::string_view in, char* out, bool url);

// Raises EINVAL "<fname>: invalid <what> input: <reason> at position <pos + 1>" for a
// failed decode of `in`.
[[noreturn]] void raise_decode_error(lua_State* L, const char* fname, const char* what, std::string_view in,
                                     const DecodeResult& r);

}  // namespace mw
