// json: encode/decode between Lua values and JSON text, on Boost.JSON's parser.
//
// Lua here is the C build: lua_error longjmps and skips C++ destructors. So every C++ object
// with a destructor that is alive while Lua may raise (buffers, the parser, path vectors)
// lives inside a userdata whose __gc destroys it, and the recursive functions below keep only
// trivially destructible locals. An error then leaks nothing: the userdata is collected.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "runtime/errors.hpp"
#include "runtime/lua.hpp"
#include "stdlib/modules.hpp"

namespace mw {
namespace {

namespace bj = boost::json;

constexpr const char* kEncoderType = "moonwire.json.encoder";
constexpr const char* kDecoderType = "moonwire.json.decoder";
constexpr const char* kCode = "EJSON";
constexpr lua_Integer kDefaultMaxDepth = 1000;
// The encoder recurses on the C stack (a few hundred bytes a level): 5000 levels stay well
// inside the usual 8 MB. The decoder does not recurse and allows deeper documents.
constexpr lua_Integer kMaxEncodeDepth = 5000;
constexpr lua_Integer kMaxDecodeDepth = 100000;
constexpr size_t kMaxIndent = 16;

// Upvalues shared by every module function.
constexpr int kNullUv = 1;      // json.null
constexpr int kArrayMtUv = 2;   // metatable set by json.array and on decoded arrays
constexpr int kObjectMtUv = 3;  // metatable set by json.object and on decoded objects

// ---------------------------------------------------------------------------------------------
// Shared helpers

// Length of the valid UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF), or 0 when it is invalid.
size_t utf8_len(std::string_view s, size_t i) {
  auto at = [&](size_t k) -> unsigned { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
  auto cont = [](unsigned c) { return c >= 0x80 && c <= 0xBF; };
  unsigned c = at(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(at(1)) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return at(1) >= lo && at(1) <= hi && cont(at(2)) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return at(1) >= lo && at(1) <= hi && cont(at(2)) && cont(at(3)) ? 4 : 0;
  }
  return 0;
}

// Appends s as a JSON string literal. Returns the offset of the first invalid UTF-8 byte
// (the output is then incomplete) or npos.
size_t append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    if (c >= 0x80) {
      size_t n = utf8_len(s, i);
      if (n == 0) return i;
      i += n;
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run, i - run);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    run = ++i;
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
  return std::string_view::npos;
}

enum class Mark { none, array, object, invalid };

// The __jsontype marker of the value at idx (set by json.array/json.object or by the user).
Mark get_mark(lua_State* L, int idx) {
  if (luaL_getmetafield(L, idx, "__jsontype") == LUA_TNIL) return Mark::none;
  Mark m = Mark::invalid;
  if (lua_type(L, -1) == LUA_TSTRING) {
    std::string_view s = to_sv(L, -1);
    if (s == "array") m = Mark::array;
    if (s == "object") m = Mark::object;
  }
  lua_pop(L, 1);
  return m;
}

// What the keys of a table look like: positive integer keys (how many, the largest) and
// whether there is any other key.
struct KeyScan {
  lua_Integer count = 0;
  lua_Integer max = 0;
  bool other = false;
  bool is_sequence() const { return !other && count > 0 && max == count; }
};

KeyScan scan_keys(lua_State* L, int idx) {
  KeyScan k;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
      ++k.count;
      k.max = std::max(k.max, lua_tointeger(L, -1));
    } else {
      k.other = true;
    }
  }
  return k;
}

// A table encodes as an array when marked so, or when unmarked with keys exactly 1..n (n >= 1).
bool encodes_as_array(Mark m, const KeyScan& k) { return m == Mark::array || (m == Mark::none && k.is_sequence()); }

lua_Integer check_max_depth(lua_State* L, int opts, lua_Integer limit) {
  return opt_int_field(L, opts, "max_depth", kDefaultMaxDepth, 1, limit);
}

// ---------------------------------------------------------------------------------------------
// Encoder

// One step of the path to the value being encoded, for error messages.
struct Segment {
  bool is_index;
  lua_Integer index;     // array index or integer key (Lua's, 1-based)
  std::string_view key;  // string key; points into a Lua string or a KeyEntry kept alive meanwhile
};

// A key of an object being written in sorted order.
struct KeyEntry {
  std::string name;  // as written to JSON
  lua_Integer ikey;  // the Lua key when it is an integer
  bool is_int;
};

struct Encoder {
  bool pretty = false;
  bool sort_keys = false;
  std::string indent = "  ";
  lua_Integer max_depth = kDefaultMaxDepth;
  std::string out;
  std::vector<Segment> path;
  std::vector<const void*> active;               // tables being encoded (cycle detection)
  std::vector<std::vector<KeyEntry>> scratch;     // per depth: the keys of the object there
  std::string err;

  // Frees the buffers now instead of at the next GC cycle (the output may be large).
  void release() {
    std::string().swap(out);
    std::vector<std::vector<KeyEntry>>().swap(scratch);
  }
};

bool is_identifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// "$.users[3].name", "$[\"a key\"]": the Lua path of the value being encoded.
void append_path(std::string& msg, const std::vector<Segment>& path) {
  msg += '$';
  for (const Segment& s : path) {
    if (s.is_index) {
      msg += '[';
      msg += std::to_string(s.index);
      msg += ']';
    } else if (is_identifier(s.key)) {
      msg += '.';
      msg += s.key;
    } else {
      msg += "[\"";
      for (unsigned char c : s.key) {
        if (c == '"' || c == '\\') {
          msg += '\\';
          msg += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          msg += buf;
        } else {
          msg += static_cast<char>(c);
        }
      }
      msg += "\"]";
    }
  }
}

// Raises "json.encode: <parts> at <path>". The message is built in the Encoder (a userdata),
// so nothing with a destructor is alive here when lua_error longjmps.
[[noreturn, gnu::noinline]] void fail(lua_State* L, Encoder& e, std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  e.err = "json.encode: ";
  e.err += a;
  e.err += b;
  e.err += c;
  e.err += " at ";
  append_path(e.err, e.path);
  raise(L, kCode, e.err);
}

void newline(Encoder& e, lua_Integer level) {
  if (!e.pretty) return;
  e.out += '\n';
  for (lua_Integer i = 0; i < level; ++i) e.out += e.indent;
}

void write_integer(std::string& out, lua_Integer v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Leaf helpers called from the recursion are kept out of line so their buffers do not
// grow every recursion frame.

// Shortest text that reads back as the same double; always with a '.' or an exponent so
// the value decodes as a float again (3.0 stays 3.0, not the integer 3).
[[gnu::noinline]] void write_float(lua_State* L, Encoder& e, lua_Number v) {
  if (std::isnan(v)) fail(L, e, "cannot encode NaN");
  if (std::isinf(v)) fail(L, e, v > 0 ? "cannot encode inf" : "cannot encode -inf");
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, static_cast<double>(v));
  std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
  e.out += s;
  if (s.find_first_of(".e") == std::string_view::npos) e.out += ".0";
}

[[gnu::noinline]] void write_string(lua_State* L, Encoder& e, std::string_view s, const char* what) {
  size_t bad = append_json_string(e.out, s);
  if (bad == std::string_view::npos) return;
  char buf[48];
  std::snprintf(buf, sizeof buf, " (byte %zu)", bad + 1);
  fail(L, e, "invalid UTF-8 in ", what, buf);
}

[[noreturn, gnu::noinline]] void fail_depth(lua_State* L, Encoder& e) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "nesting deeper than %lld levels", static_cast<long long>(e.max_depth));
  fail(L, e, buf);
}

void encode_value(lua_State* L, Encoder& e, int idx, lua_Integer depth);

void encode_array(lua_State* L, Encoder& e, int idx, lua_Integer n, lua_Integer depth) {
  e.out += '[';
  for (lua_Integer i = 1; i <= n; ++i) {
    if (i > 1) e.out += ',';
    newline(e, depth);
    e.path.push_back({true, i, {}});
    lua_rawgeti(L, idx, i);  // holes in a marked array become null
    encode_value(L, e, lua_gettop(L), depth);
    lua_pop(L, 1);
    e.path.pop_back();
  }
  if (n > 0) newline(e, depth - 1);
  e.out += ']';
}

// Writes `,` (after the first), the line break and `"name":` for one key.
void write_key(lua_State* L, Encoder& e, std::string_view name, bool first, lua_Integer depth) {
  if (!first) e.out += ',';
  newline(e, depth);
  write_string(L, e, name, "object key");
  e.out += e.pretty ? ": " : ":";
}

// The JSON name of the key at kidx: a string as is, an integer in decimal (into buf).
// Raises for other key types, and when an integer key collides with the same string key.
[[gnu::noinline]] std::string_view key_name(lua_State* L, Encoder& e, int tidx, int kidx, char (&buf)[24]) {
  int t = lua_type(L, kidx);
  if (t == LUA_TSTRING) return to_sv(L, kidx);
  if (t == LUA_TNUMBER && lua_isinteger(L, kidx)) {
    // Never lua_tolstring the key itself: that would turn it into a string and break lua_next.
    auto r = std::to_chars(buf, buf + sizeof buf, lua_tointeger(L, kidx));
    std::string_view name(buf, static_cast<size_t>(r.ptr - buf));
    push_sv(L, name);
    bool clash = lua_rawget(L, tidx) != LUA_TNIL;
    lua_pop(L, 1);
    if (clash) fail(L, e, "key \"", name, "\" appears both as an integer and as a string");
    return name;
  }
  const char* tname = t == LUA_TNUMBER ? "float" : luaL_typename(L, kidx);
  fail(L, e, "object key must be a string or an integer, got ", tname);
}

// Keys in table order (Lua's hash order: not stable between runs).
void encode_object(lua_State* L, Encoder& e, int idx, lua_Integer depth) {
  e.out += '{';
  bool first = true;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int vidx = lua_gettop(L);
    char buf[24];
    std::string_view name = key_name(L, e, idx, vidx - 1, buf);
    write_key(L, e, name, first, depth);
    first = false;
    if (lua_type(L, vidx - 1) == LUA_TSTRING)
      e.path.push_back({false, 0, name});  // points into the key string, alive on the stack
    else
      e.path.push_back({true, lua_tointeger(L, vidx - 1), {}});
    encode_value(L, e, vidx, depth);
    e.path.pop_back();
    lua_pop(L, 1);
  }
  if (!first) newline(e, depth - 1);
  e.out += '}';
}

// Keys in byte order, for output that is stable between runs (diffs, caches, signatures).
void encode_object_sorted(lua_State* L, Encoder& e, int idx, lua_Integer depth) {
  // e.scratch may reallocate while deeper levels run, so it is indexed afresh each time.
  size_t d = static_cast<size_t>(depth);
  if (e.scratch.size() <= d) e.scratch.resize(d + 1);
  e.scratch[d].clear();
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    char buf[24];
    std::string_view name = key_name(L, e, idx, lua_gettop(L) - 1, buf);
    bool is_int = lua_type(L, -2) == LUA_TNUMBER;
    e.scratch[d].push_back({std::string(name), is_int ? lua_tointeger(L, -2) : 0, is_int});
    lua_pop(L, 1);
  }
  std::sort(e.scratch[d].begin(), e.scratch[d].end(),
            [](const KeyEntry& a, const KeyEntry& b) { return a.name < b.name; });
  e.out += '{';
  size_t n = e.scratch[d].size();
  for (size_t i = 0; i < n; ++i) {
    const KeyEntry& k = e.scratch[d][i];  // stable: deeper levels use other scratch vectors
    write_key(L, e, k.name, i == 0, depth);
    if (k.is_int) {
      lua_pushinteger(L, k.ikey);
      e.path.push_back({true, k.ikey, {}});
    } else {
      push_sv(L, k.name);
      e.path.push_back({false, 0, k.name});
    }
    lua_rawget(L, idx);
    encode_value(L, e, lua_gettop(L), depth);
    lua_pop(L, 1);
    e.path.pop_back();
  }
  if (n > 0) newline(e, depth - 1);
  e.out += '}';
}

void encode_table(lua_State* L, Encoder& e, int idx, lua_Integer depth) {
  const void* id = lua_topointer(L, idx);
  if (std::find(e.active.begin(), e.active.end(), id) != e.active.end()) fail(L, e, "cycle detected");
  if (depth >= e.max_depth) fail_depth(L, e);
  luaL_checkstack(L, 8, "json.encode: nesting too deep");
  Mark mark = get_mark(L, idx);
  if (mark == Mark::invalid) fail(L, e, "__jsontype must be \"array\" or \"object\"");
  KeyScan keys = scan_keys(L, idx);
  e.active.push_back(id);
  if (encodes_as_array(mark, keys)) {
    if (keys.other) fail(L, e, "table marked as array has a key that is not a positive integer");
    encode_array(L, e, idx, keys.max, depth + 1);
  } else if (e.sort_keys) {
    encode_object_sorted(L, e, idx, depth + 1);
  } else {
    encode_object(L, e, idx, depth + 1);
  }
  e.active.pop_back();
}

void encode_value(lua_State* L, Encoder& e, int idx, lua_Integer depth) {
  // __tojson (tables and userdata): encode what it returns instead. A chain of them is bounded
  // by max_depth; returning the value itself encodes it raw.
  int pushed = 0;
  int t = lua_type(L, idx);
  while ((t == LUA_TTABLE || t == LUA_TUSERDATA) && !lua_rawequal(L, idx, lua_upvalueindex(kNullUv)) &&
         luaL_getmetafield(L, idx, "__tojson") != LUA_TNIL) {
    if (pushed >= e.max_depth) fail(L, e, "__tojson chain too long");
    luaL_checkstack(L, 2, "json.encode");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    ++pushed;
    if (lua_rawequal(L, -1, idx)) break;
    idx = lua_gettop(L);
    t = lua_type(L, idx);
  }
  switch (t) {
    case LUA_TNIL: e.out += "null"; break;
    case LUA_TBOOLEAN: e.out += lua_toboolean(L, idx) ? "true" : "false"; break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx))
        write_integer(e.out, lua_tointeger(L, idx));
      else
        write_float(L, e, lua_tonumber(L, idx));
      break;
    case LUA_TSTRING: write_string(L, e, to_sv(L, idx), "string"); break;
    case LUA_TTABLE:
      if (lua_rawequal(L, idx, lua_upvalueindex(kNullUv)))
        e.out += "null";
      else
        encode_table(L, e, idx, depth);
      break;
    default: fail(L, e, "cannot encode ", luaL_typename(L, idx));
  }
  lua_pop(L, pushed);
}

// Reads the encode options at `opts` into e. `indent` (a count of spaces or a whitespace
// string) implies pretty; sort_keys defaults to pretty, so pretty output is stable.
void read_encode_options(lua_State* L, int opts, Encoder& e, bool pretty_default) {
  bool has_indent = false;
  int t = get_field(L, opts, "indent");
  if (t == LUA_TNUMBER) {
    int isint;
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    if (!isint || n < 0 || n > static_cast<lua_Integer>(kMaxIndent))
      raisef(L, "EINVAL", "option 'indent' must be 0..%d spaces or a string of spaces/tabs", static_cast<int>(kMaxIndent));
    e.indent.assign(static_cast<size_t>(n), ' ');
    has_indent = true;
  } else if (t == LUA_TSTRING) {
    std::string_view s = to_sv(L, -1);
    if (s.size() > kMaxIndent || s.find_first_not_of(" \t") != std::string_view::npos)
      raisef(L, "EINVAL", "option 'indent' must be 0..%d spaces or a string of spaces/tabs", static_cast<int>(kMaxIndent));
    e.indent.assign(s);
    has_indent = true;
  } else if (t != LUA_TNIL) {
    option_error(L, "indent", "an integer or a string");
  }
  lua_pop(L, 1);
  e.pretty = opt_bool_field(L, opts, "pretty", pretty_default || has_indent);
  e.sort_keys = opt_bool_field(L, opts, "sort_keys", e.pretty);
  e.max_depth = check_max_depth(L, opts, kMaxEncodeDepth);
}

int encode_impl(lua_State* L, bool pretty_default) {
  luaL_checkany(L, 1);
  lua_settop(L, 2);
  static const char* const known[] = {"indent", "pretty", "sort_keys", "max_depth", nullptr};
  check_options(L, 2, pretty_default ? "json.pretty" : "json.encode", known);
  Encoder* e = new_object<Encoder>(L, kEncoderType, 0);  // index 3; collected even on error
  read_encode_options(L, 2, *e, pretty_default);
  encode_value(L, *e, 1, 0);
  push_sv(L, e->out);
  e->release();
  return 1;
}

int l_encode(lua_State* L) { return encode_impl(L, false); }
int l_pretty(lua_State* L) { return encode_impl(L, true); }

// ---------------------------------------------------------------------------------------------
// Decoder: a Boost.JSON SAX handler that builds the Lua values directly on the Lua stack
// (no intermediate DOM). Containers being filled sit on the stack, each object's pending key
// above it.

struct Handler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  struct Frame {
    bool array;
    lua_Integer n;  // elements so far (arrays)
  };

  lua_State* L;
  int null_idx;  // stack index of the value for JSON null; 0: null becomes nil
  std::string buf;  // a string or key arriving in parts
  std::string num;  // a number arriving in parts
  std::vector<Frame> frames;
  bool stack_full = false;
  std::string err;

  Handler(lua_State* L, int null_idx) : L(L), null_idx(null_idx) {}

  // Stores the value on top of the stack into the enclosing container (if any).
  void put() {
    if (frames.empty()) return;
    Frame& f = frames.back();
    if (f.array)
      lua_rawseti(L, -2, ++f.n);
    else
      lua_rawset(L, -3);
  }
  bool begin(bool array, bj::error_code& ec) {
    if (!lua_checkstack(L, 4)) {
      stack_full = true;
      ec = bj::error::too_deep;
      return false;
    }
    lua_createtable(L, 0, 0);
    lua_pushvalue(L, lua_upvalueindex(array ? kArrayMtUv : kObjectMtUv));
    lua_setmetatable(L, -2);
    frames.push_back({array, 0});
    return true;
  }
  bool end() {
    frames.pop_back();
    put();
    return true;
  }
  void push_text(bj::string_view s) {
    if (buf.empty()) {
      lua_pushlstring(L, s.data(), s.size());
    } else {
      buf.append(s.data(), s.size());
      push_sv(L, buf);
      buf.clear();
    }
  }

  bool on_document_begin(bj::error_code&) { return true; }
  bool on_document_end(bj::error_code&) { return true; }
  bool on_array_begin(bj::error_code& ec) { return begin(true, ec); }
  bool on_array_end(std::size_t, bj::error_code&) { return end(); }
  bool on_object_begin(bj::error_code& ec) { return begin(false, ec); }
  bool on_object_end(std::size_t, bj::error_code&) { return end(); }
  bool on_string_part(bj::string_view s, std::size_t, bj::error_code&) {
    buf.append(s.data(), s.size());
    return true;
  }
  bool on_string(bj::string_view s, std::size_t, bj::error_code&) {
    push_text(s);
    put();
    return true;
  }
  bool on_key_part(bj::string_view s, std::size_t, bj::error_code&) {
    buf.append(s.data(), s.size());
    return true;
  }
  bool on_key(bj::string_view s, std::size_t, bj::error_code&) {
    push_text(s);  // stays on the stack until its value arrives
    return true;
  }
  bool on_number_part(bj::string_view s, bj::error_code&) {
    num.append(s.data(), s.size());
    return true;
  }
  bool on_int64(int64_t v, bj::string_view, bj::error_code&) {
    num.clear();
    lua_pushinteger(L, static_cast<lua_Integer>(v));
    put();
    return true;
  }
  // Only called above INT64_MAX: no Lua integer holds it, so it becomes a float.
  bool on_uint64(uint64_t v, bj::string_view, bj::error_code&) {
    num.clear();
    lua_pushnumber(L, static_cast<lua_Number>(v));
    put();
    return true;
  }
  // Boost.JSON 1.81's own conversion is not correctly rounded (a quarter of the doubles
  // json.encode writes came back 1 ulp off): convert the number's text with from_chars. Out of
  // range (1e999, 1e-400) keeps Boost's inf or 0.
  bool on_double(double v, bj::string_view s, bj::error_code&) {
    std::string_view text(s.data(), s.size());
    if (!num.empty()) {
      num.append(s.data(), s.size());
      text = num;
    }
    double exact;
    auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), exact);
    if (err == std::errc() && end == text.data() + text.size()) v = exact;
    num.clear();
    lua_pushnumber(L, v);
    put();
    return true;
  }
  bool on_bool(bool v, bj::error_code&) {
    lua_pushboolean(L, v);
    put();
    return true;
  }
  bool on_null(bj::error_code&) {
    if (null_idx) {
      lua_pushvalue(L, null_idx);
      put();
    } else if (frames.empty()) {
      lua_pushnil(L);  // the document itself is null
    } else if (frames.back().array) {
      ++frames.back().n;  // leave a hole, keep the following indices
    } else {
      lua_pop(L, 1);  // drop the key: the field is absent
    }
    return true;
  }
  bool on_comment_part(bj::string_view, bj::error_code&) { return true; }
  bool on_comment(bj::string_view, bj::error_code&) { return true; }
};

using Parser = bj::basic_parser<Handler>;
// l_decode raises with these alive in its frame; longjmp must not skip a destructor.
static_assert(std::is_trivially_destructible_v<bj::error_code>);
static_assert(std::is_trivially_destructible_v<bj::parse_options>);

struct Scan {
  bool in_string = false;
  bool after_backslash = false;  // the byte at the offset follows an escape's backslash
};

// Replays the input up to `off` to learn whether that point is inside a string literal, so
// syntax errors can say what is actually wrong there.
Scan scan_to(std::string_view in, size_t off, bool comments) {
  Scan s;
  for (size_t i = 0; i < off; ++i) {
    char c = in[i];
    if (s.in_string) {
      if (c == '\\') {
        if (i + 1 == off) s.after_backslash = true;
        ++i;
      } else if (c == '"') {
        s.in_string = false;
      }
    } else if (c == '"') {
      s.in_string = true;
    } else if (comments && c == '/' && i + 1 < off && in[i + 1] == '/') {
      while (i < off && in[i] != '\n') ++i;
    } else if (comments && c == '/' && i + 1 < off && in[i + 1] == '*') {
      size_t close = in.find("*/", i + 2);
      i = close == std::string_view::npos ? off : close + 1;
    }
  }
  return s;
}

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// "\uD83D" just before off: a high surrogate not followed by a low one.
bool lone_high_surrogate_before(std::string_view in, size_t off) {
  if (off < 6) return false;
  std::string_view u = in.substr(off - 6, 6);
  return u[0] == '\\' && u[1] == 'u' && (u[2] == 'd' || u[2] == 'D') && std::strchr("89abAB", u[3]) && u[3] &&
         is_hex(u[4]) && is_hex(u[5]);
}

std::string describe_byte(unsigned char c) {
  char buf[64];
  if (c == '\'')
    std::snprintf(buf, sizeof buf, "unexpected \"'\" (strings take double quotes)");
  else if (c < 0x20 || c >= 0x7F)
    std::snprintf(buf, sizeof buf, "unexpected byte 0x%02X", c);
  else
    std::snprintf(buf, sizeof buf, "unexpected character '%c'", c);
  return buf;
}

// Says what is wrong at `off`, where the parser stopped with a syntax error.
std::string describe_syntax(std::string_view in, size_t off, const Scan& s) {
  if (off >= in.size()) return s.in_string ? "unterminated string" : "unexpected end of input";
  unsigned char c = in[off];
  char buf[64];
  if (s.in_string) {
    if (s.after_backslash) {
      if (c > 0x20 && c < 0x7F) {
        std::snprintf(buf, sizeof buf, "invalid escape '\\%c'", c);
        return buf;
      }
      return "invalid escape sequence";
    }
    if (lone_high_surrogate_before(in, off)) return "UTF-16 high surrogate \\" + std::string(in.substr(off - 5, 5)) + " not followed by a low surrogate";
    if (c < 0x20) {
      std::snprintf(buf, sizeof buf, "control character 0x%02X in string (must be escaped)", c);
      return buf;
    }
    if (c >= 0x80) {
      std::snprintf(buf, sizeof buf, "invalid UTF-8 in string (byte 0x%02X)", c);
      return buf;
    }
    return describe_byte(c);
  }
  if (c == ']' || c == '}') {
    size_t p = in.find_last_not_of(" \t\r\n", off == 0 ? 0 : off - 1);
    if (off > 0 && p != std::string_view::npos && in[p] == ',') return std::string("trailing comma before '") + char(c) + "'";
  }
  if (std::isalnum(c) || c == '-') {
    size_t end = off;
    while (end < in.size() && end - off < 32 &&
           (std::isalnum(static_cast<unsigned char>(in[end])) || std::strchr("+-._", in[end])) && in[end])
      ++end;
    return "unexpected '" + std::string(in.substr(off, end - off)) + "'";
  }
  return describe_byte(c);
}

std::string describe_error(std::string_view in, size_t off, bj::error_code ec, const Scan& s,
                           lua_Integer max_depth, bool stack_full) {
  if (ec == bj::error::too_deep) {
    if (stack_full) return "nesting too deep for the Lua stack";
    return "nesting deeper than " + std::to_string(max_depth) + " levels";
  }
  if (ec == bj::error::incomplete) return s.in_string ? "unterminated string" : "unexpected end of input";
  if (ec == bj::error::exponent_overflow) return "number exponent too large";
  if (ec == bj::error::expected_hex_digit) return "invalid \\u escape (expected 4 hex digits)";
  if (ec == bj::error::illegal_leading_surrogate || ec == bj::error::illegal_trailing_surrogate)
    return "invalid UTF-16 surrogate in \\u escape";
  if (ec == bj::error::expected_utf16_escape) return "UTF-16 high surrogate not followed by a low surrogate";
  if (ec == bj::error::syntax) return describe_syntax(in, off, s);
  return ec.message();
}

// "json.decode: <reason> at line L column C"; columns count characters (UTF-8 sequences).
std::string error_message(std::string_view in, size_t off, std::string_view reason) {
  off = std::min(off, in.size());
  size_t line = 1, col = 1;
  for (size_t i = 0; i < off; ++i) {
    unsigned char c = in[i];
    if (c == '\n') {
      ++line;
      col = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++col;
    }
  }
  return "json.decode: " + std::string(reason) + " at line " + std::to_string(line) + " column " + std::to_string(col);
}

// Offset of the first byte after `off` that is not whitespace (or a comment, when allowed).
size_t skip_space(std::string_view in, size_t off, bool comments) {
  while (off < in.size()) {
    char c = in[off];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++off;
    } else if (comments && in.substr(off, 2) == "//") {
      size_t nl = in.find('\n', off);
      off = nl == std::string_view::npos ? in.size() : nl + 1;
    } else if (comments && in.substr(off, 2) == "/*") {
      size_t close = in.find("*/", off + 2);
      if (close == std::string_view::npos) return off;
      off = close + 2;
    } else {
      break;
    }
  }
  return off;
}

int l_decode(lua_State* L) {
  luaL_checktype(L, 1, LUA_TSTRING);
  lua_settop(L, 2);
  static const char* const known[] = {"null_as_nil", "null", "max_depth", "allow_comments", "allow_trailing_commas",
                                      nullptr};
  check_options(L, 2, "json.decode", known);
  // Index 3: the value JSON null becomes (unused when null_as_nil).
  bool null_as_nil = opt_bool_field(L, 2, "null_as_nil", false);
  if (get_field(L, 2, "null") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(kNullUv));
  }
  bj::parse_options po;
  lua_Integer max_depth = check_max_depth(L, 2, kMaxDecodeDepth);
  po.max_depth = static_cast<size_t>(max_depth);
  po.allow_comments = opt_bool_field(L, 2, "allow_comments", false);
  po.allow_trailing_commas = opt_bool_field(L, 2, "allow_trailing_commas", false);

  std::string_view in = to_sv(L, 1);  // anchored by argument 1
  size_t start = in.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;  // a UTF-8 byte order mark is allowed
  Parser* p = new_object<Parser>(L, kDecoderType, 0, po, L, null_as_nil ? 0 : 3);  // index 4
  Handler& h = p->handler();
  bj::error_code ec;
  size_t off = start + p->write_some(false, in.data() + start, in.size() - start, ec);
  if (!ec) {
    // Boost.JSON stops after the first complete value: anything but space after it is garbage.
    off = skip_space(in, off, po.allow_comments);
    if (off < in.size()) h.err = error_message(in, off, "unexpected data after the JSON value");
  } else {
    Scan s = scan_to(in, std::min(off, in.size()), po.allow_comments);
    h.err = error_message(in, off, describe_error(in, off, ec, s, max_depth, h.stack_full));
  }
  if (!h.err.empty()) raise(L, kCode, h.err);  // h is inside the userdata: nothing leaks
  std::string().swap(h.buf);
  return 1;  // the document's value, on top
}

// ---------------------------------------------------------------------------------------------
// Markers and json.null

// json.array(t?) / json.object(t?): marks t (or a new table) with the shared marker metatable.
int mark_table(lua_State* L, int mt_uv) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  if (lua_getmetatable(L, 1)) {
    // Replacing a user's metatable would silently break their type; they can set __jsontype.
    bool ours = lua_rawequal(L, -1, lua_upvalueindex(kArrayMtUv)) || lua_rawequal(L, -1, lua_upvalueindex(kObjectMtUv));
    if (!ours) luaL_argerror(L, 1, "table already has a metatable (set __jsontype in it instead)");
    lua_pop(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(mt_uv));
  lua_setmetatable(L, 1);
  return 1;
}

int l_array(lua_State* L) { return mark_table(L, kArrayMtUv); }
int l_object(lua_State* L) { return mark_table(L, kObjectMtUv); }

// True when the value would encode as a JSON array (ignoring __tojson).
int l_is_array(lua_State* L) {
  luaL_checkany(L, 1);
  bool r = false;
  if (lua_type(L, 1) == LUA_TTABLE && !lua_rawequal(L, 1, lua_upvalueindex(kNullUv))) {
    Mark m = get_mark(L, 1);
    r = m == Mark::array || (m == Mark::none && scan_keys(L, 1).is_sequence());
  }
  lua_pushboolean(L, r);
  return 1;
}

int null_tostring(lua_State* L) {
  lua_pushliteral(L, "null");
  return 1;
}

int null_newindex(lua_State* L) { return luaL_error(L, "json.null is read-only"); }

// json.null: an empty read-only table, unique, printing as "null". A table (not a light
// userdata) so it can have its own metatable without touching every light userdata.
void push_null(lua_State* L) {
  lua_newtable(L);
  lua_createtable(L, 0, 4);
  lua_pushcfunction(L, null_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, null_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, "json.null");
  lua_setfield(L, -2, "__name");
  lua_pushliteral(L, "json.null");
  lua_setfield(L, -2, "__metatable");  // getmetatable(json.null) == "json.null"; setmetatable fails
  lua_setmetatable(L, -2);
}

void push_marker_mt(lua_State* L, const char* type, const char* name) {
  lua_createtable(L, 0, 2);
  lua_pushstring(L, type);
  lua_setfield(L, -2, "__jsontype");
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__name");
}

int gc_encoder(lua_State* L) { return gc_object<Encoder>(L, kEncoderType); }
int gc_decoder(lua_State* L) { return gc_object<Parser>(L, kDecoderType); }

}  // namespace

int open_json(lua_State* L) {
  static const luaL_Reg gc_encoder_mt[] = {{"__gc", gc_encoder}, {nullptr, nullptr}};
  static const luaL_Reg gc_decoder_mt[] = {{"__gc", gc_decoder}, {nullptr, nullptr}};
  new_class(L, kEncoderType, nullptr, gc_encoder_mt);
  new_class(L, kDecoderType, nullptr, gc_decoder_mt);

  static const luaL_Reg funcs[] = {
      {"encode", l_encode}, {"decode", l_decode}, {"pretty", l_pretty},       {"array", l_array},
      {"object", l_object}, {"is_array", l_is_array}, {nullptr, nullptr},
  };
  lua_createtable(L, 0, 8);
  push_null(L);
  push_marker_mt(L, "array", "json.array");
  push_marker_mt(L, "object", "json.object");
  lua_pushvalue(L, -3);
  lua_setfield(L, -5, "null");
  luaL_setfuncs(L, funcs, 3);  // pops the three upvalues
  return 1;
}

}  // namespace mw
