#include "stdlib/reader.hpp"

#include <cctype>
#include <cstring>

#include "runtime/errors.hpp"

namespace mw {

void Source::arrived(std::string_view data, bool end) {
  buffer.append(data);
  eof = eof || end;
  if (OpPtr op = std::move(waiter); op && op->active()) op->resume();
}

int Source::wait(lua_State* L, const char* what) {
  if (waiter && waiter->active()) raisef(L, kBusy, "%s: another task is already reading", what);
  return suspend(L, what, kForever, [&](const OpPtr& op) {
    waiter = op;
    op->on_abandon([this] { waiter.reset(); });
    request();  // may deliver at once (a source that is already at its end)
  });
}

namespace {

enum class Got { value, none, more };  // pushed a value / nothing there (nil) / need more data

Got read_line(lua_State* L, Source& r, bool keep_newline) {
  size_t nl = r.buffer.find('\n');
  if (nl == std::string::npos && !r.eof) return Got::more;
  if (nl == std::string::npos && r.buffer.empty()) return Got::none;
  size_t take = nl == std::string::npos ? r.buffer.size() : nl + 1;
  size_t len = nl == std::string::npos || keep_newline ? take : nl;
  lua_pushlstring(L, r.buffer.data(), len);
  r.buffer.erase(0, take);
  return Got::value;
}

Got read_count(lua_State* L, Source& r, size_t n) {
  if (n == 0) {  // as Lua: "" unless at end of file
    if (r.buffer.empty() && !r.eof) return Got::more;
    if (r.buffer.empty()) return Got::none;
    lua_pushliteral(L, "");
    return Got::value;
  }
  if (r.buffer.size() < n && !r.eof) return Got::more;
  if (r.buffer.empty()) return Got::none;
  size_t take = std::min(n, r.buffer.size());
  lua_pushlstring(L, r.buffer.data(), take);
  r.buffer.erase(0, take);
  return Got::value;
}

Got read_all(lua_State* L, Source& r) {
  if (!r.eof) return Got::more;
  push_sv(L, r.buffer);
  r.buffer.clear();
  return Got::value;
}

// A numeral as Lua's "n" reads it (liolib's l_getn): whitespace, then the longest prefix that
// can start a numeral: sign, "0x", digits, a point, digits, an exponent. What does not fit
// stays in the buffer; the text read is then converted (fail → nil).
class NumeralScan {
 public:
  NumeralScan(const std::string& b, bool eof) : b_(b), eof_(eof) {}
  // False when the buffer ended before the numeral did (more data is needed).
  bool scan() {
    while (more() && std::isspace(static_cast<unsigned char>(b_[i_]))) ++i_;
    if (!more()) return eof_;
    start_ = i_;
    test2("-+");
    bool hex = false;
    int count = 0;
    if (test2("00")) {
      if (test2("xX")) hex = true;
      else count = 1;
    }
    count += digits(hex);
    if (test2("..")) count += digits(hex);
    if (count > 0 && test2(hex ? "pP" : "eE")) {
      test2("-+");
      digits(false);
    }
    return !truncated_;
  }
  size_t start() const { return start_; }
  size_t end() const { return i_; }

 private:
  bool more() {
    if (i_ < b_.size()) return true;
    if (!eof_) truncated_ = true;
    return false;
  }
  bool test2(const char* set) {
    if (i_ - start_ >= 200 || !more() || (b_[i_] != set[0] && b_[i_] != set[1])) return false;
    ++i_;
    return true;
  }
  int digits(bool hex) {
    int n = 0;
    while (i_ - start_ < 200 && more() &&
           (hex ? std::isxdigit(static_cast<unsigned char>(b_[i_])) : std::isdigit(static_cast<unsigned char>(b_[i_])))) {
      ++i_;
      ++n;
    }
    return n;
  }
  const std::string& b_;
  bool eof_;
  size_t i_ = 0, start_ = 0;
  bool truncated_ = false;
};

Got read_number(lua_State* L, Source& r) {
  NumeralScan scan(r.buffer, r.eof);
  if (!scan.scan()) return Got::more;
  std::string numeral = r.buffer.substr(scan.start(), scan.end() - scan.start());
  r.buffer.erase(0, scan.end());
  if (numeral.empty() || lua_stringtonumber(L, numeral.c_str()) == 0) lua_pushnil(L);  // as Lua: fail
  return Got::value;
}

// Reads the format at stack index `fmt`; pushes the result or reports that more data is needed.
Got read_format(lua_State* L, Source& r, int fmt) {
  if (lua_type(L, fmt) == LUA_TNUMBER) {
    lua_Integer n = lua_tointeger(L, fmt);
    return read_count(L, r, n < 0 ? 0 : static_cast<size_t>(n));
  }
  const char* p = luaL_checkstring(L, fmt);
  if (*p == '*') ++p;  // Lua 5.1/5.2 style "*l"
  switch (*p) {
    case 'l': return read_line(L, r, false);
    case 'L': return read_line(L, r, true);
    case 'n': return read_number(L, r);
    case 'a': return read_all(L, r);
  }
  return luaL_argerror(L, fmt, "invalid format"), Got::none;
}

// --- io.read / io.stdin:read -------------------------------------------------------------------


struct Pending {  // what the continuation needs after a wait
  Source* src;
  const char* what;
};

int read_loop(lua_State* L, Source* src, int first, const char* what);

// Stack after a wait: formats up to `top`, then the light userdata of a Pending.
int read_loop_k(lua_State* L, int status, lua_KContext ctx) {
  int top = static_cast<int>(ctx >> 8), first = static_cast<int>(ctx & 0xff);
  auto* p = static_cast<Pending*>(lua_touserdata(L, top + 1));
  Source* src = p->src;
  const char* what = p->what;
  lua_settop(L, top);
  return read_loop(L, src, first, what);
}

int wait_step(lua_State* L) {
  auto* p = static_cast<Pending*>(lua_touserdata(L, 1));
  return p->src->wait(L, p->what);
}

int read_loop(lua_State* L, Source* src, int first, const char* what) {
  Source& r = *src;
  int top = lua_gettop(L);
  int nformats = top - first + 1;
  if (nformats <= 0) {
    lua_pushliteral(L, "l");
    ++top;
    nformats = 1;
  }
  // A single format that needs more has consumed nothing; several may have to put back what
  // the earlier ones took (copying the buffer each time made a large read("a") quadratic).
  std::string saved;
  if (nformats > 1) saved = r.buffer;
  int base = lua_gettop(L);
  for (int i = 0; i < nformats; ++i) {
    Got g = read_format(L, r, first + i);
    if (g == Got::value) continue;
    if (g == Got::none) {
      lua_pushnil(L);
      return lua_gettop(L) - base;
    }
    // more: put back what this call took, wait for data, try again
    lua_settop(L, base);
    if (nformats > 1) r.buffer = std::move(saved);
    auto* p = static_cast<Pending*>(lua_newuserdatauv(L, sizeof(Pending), 0));  // top + 1
    *p = Pending{src, what};
    lua_pushcfunction(L, wait_step);
    lua_pushvalue(L, -2);
    lua_KContext ctx = (static_cast<lua_KContext>(top) << 8) | first;
    lua_callk(L, 1, 0, ctx, read_loop_k);
    return read_loop_k(L, LUA_OK, ctx);
  }
  return lua_gettop(L) - base;
}

int lines_step(lua_State* L) {
  auto* src = static_cast<Source*>(lua_touserdata(L, lua_upvalueindex(2)));
  auto* what = static_cast<const char*>(lua_touserdata(L, lua_upvalueindex(3)));
  int n = static_cast<int>(lua_tointeger(L, lua_upvalueindex(4)));
  lua_settop(L, 0);
  for (int i = 1; i <= n; ++i) lua_pushvalue(L, lua_upvalueindex(4 + i));
  return read_loop(L, src, 1, what);
}

}  // namespace

int read_formats(lua_State* L, Source* src, int first, const char* what) {
  if (lua_gettop(L) - first > 250) return luaL_error(L, "too many arguments");
  return read_loop(L, src, first, what);
}

int push_lines(lua_State* L, Source* src, int owner, int first, const char* what) {
  owner = lua_absindex(L, owner);
  int n = lua_gettop(L) - first + 1;
  if (n > 250) return luaL_error(L, "too many arguments");
  if (n <= 0) {
    lua_pushliteral(L, "l");
    n = 1;
  }
  lua_pushvalue(L, owner);
  lua_pushlightuserdata(L, src);
  lua_pushlightuserdata(L, const_cast<char*>(what));
  lua_pushinteger(L, n);
  lua_rotate(L, first, 4);  // owner, src, what, n, formats...
  lua_pushcclosure(L, lines_step, n + 4);
  return 1;
}

}  // namespace mw
