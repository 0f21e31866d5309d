#pragma once
// RESP2/RESP3 wire format (no Lua, no Asio: unit-tested alone in tests/unit/resp_test.cpp).
// - Commands are encoded as arrays of bulk strings (what every server accepts).
// - Replies are found by an incremental scanner: resp_scan tells whether a complete reply is at
//   the start of a buffer (and its length), so the reader keeps bytes until a reply is whole and
//   then converts it once, straight from the buffer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mw::redis {

inline constexpr int kMaxDepth = 128;                  // nesting of aggregate replies
inline constexpr int64_t kMaxBulk = 512 * 1024 * 1024;   // Redis' own proto-max-bulk-len
inline constexpr int64_t kMaxElements = int64_t(1) << 32;

// Appends "*<n>\r\n" and then each argument as "$<len>\r\n<bytes>\r\n".
void append_array_header(std::string& out, size_t n);
void append_bulk(std::string& out, std::string_view arg);
void append_command(std::string& out, const std::vector<std::string_view>& args);

enum class Scan { complete, incomplete, error };

// Looks for one complete reply at p[0..n). complete: `len` = its size in bytes; incomplete: more
// bytes are needed; error: not RESP (`error` says why; the connection must be dropped).
Scan scan(const char* p, size_t n, size_t& len, std::string& error);

// A decoded reply (tests, and replies the core keeps in C++).
struct Value {
  char type = 0;  // the RESP type byte: + - : $ * _ # , ( = ~ % > |  (null bulk/array: '_')
  std::string str;  // + - $ ( = (verbatim: without the "txt:" prefix), , as text
  int64_t integer = 0;
  double number = 0;
  bool boolean = false;
  std::vector<Value> elems;  // * ~ > ; % as key, value, key, value...
};

// Decodes the complete reply at p[0..n) (as found by scan); returns bytes used, 0 on error.
size_t decode(const char* p, size_t n, Value& out);

// The error code of an error reply's text: its first word when it is all capitals
// ("WRONGTYPE Operation against..." -> "WRONGTYPE"), else "ERR".
std::string_view error_code(std::string_view text);

}  // namespace mw::redis
