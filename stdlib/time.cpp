// time (CopperMoon): now, now_ms, monotonic, monotonic_ms, sleep(ms), format(ts[, fmt]),
// parse(s[, fmt]); and the timer globals setTimeout/setInterval/clearTimeout/clearInterval, each
// callback run in its own task.
#include <strings.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <unordered_map>

#include "runtime/callback.hpp"
#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/modules.hpp"

namespace mw {

int sleep_ms(lua_State* L, int64_t ms, const char* what);  // task.cpp

using Clock = std::chrono::steady_clock;

static int time_now(lua_State* L) {
  auto d = std::chrono::system_clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double>(d).count());
  return 1;
}

static int time_now_ms(lua_State* L) {
  auto d = std::chrono::system_clock::now().time_since_epoch();
  lua_pushinteger(L, std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  return 1;
}

static int time_monotonic(lua_State* L) {
  lua_pushnumber(L, std::chrono::duration<double>(Clock::now().time_since_epoch()).count());
  return 1;
}

static int time_monotonic_ms(lua_State* L) {
  lua_pushinteger(L, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count());
  return 1;
}

static int time_sleep(lua_State* L) {
  luaL_checknumber(L, 1);
  return sleep_ms(L, check_delay(L, 1, 1, 0, "duration"), "time.sleep");
}

// --- format and parse -------------------------------------------------------------------------
// UTC only, no time zone database (nothing to load, nothing that blocks). Dates are years
// 0000..9999 (RFC 3339's range); proleptic Gregorian calendar; POSIX time (no leap seconds:
// a parsed :60 is the next second). Every helper here works on plain values and a char buffer
// for the error message: they raise only from the binding, where no C++ object is alive.

namespace {

constexpr int64_t kMinTs = -62167219200;  // 0000-01-01T00:00:00Z
constexpr int64_t kMaxTs = 253402300799;  // 9999-12-31T23:59:59Z

const char* const kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                               "July",    "August",   "September", "October", "November", "December"};
const char* const kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};

// Howard Hinnant's algorithms (days since 1970-01-01 <-> civil date).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static const int kDim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDim[m - 1];
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Quotes at most 60 bytes of the input for a message, non-printable bytes as '?'.
void quote(const char* s, size_t n, char* out, size_t cap) {
  size_t k = 0;
  out[k++] = '"';
  for (size_t i = 0; i < n && k + 5 < cap; ++i) {
    if (i == 60) {
      std::memcpy(out + k, "...", 3);
      k += 3;
      break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    out[k++] = c >= 0x20 && c != 0x7f ? static_cast<char>(c) : '?';
  }
  out[k++] = '"';
  out[k] = 0;
}

// The fractional digits of `us` (microseconds): `digits` of them (0 = as many as needed: 0, 3
// or 6, as chrono's %.f).
void add_fraction(luaL_Buffer* b, int64_t us, int digits, bool dot) {
  if (digits == 0) {
    if (us == 0) return;
    digits = us % 1000 == 0 ? 3 : 6;
  }
  char buf[16];
  int64_t ns = us * 1000;
  std::snprintf(buf, sizeof buf, "%09lld", static_cast<long long>(ns));
  if (dot) luaL_addchar(b, '.');
  luaL_addlstring(b, buf, static_cast<size_t>(digits));
}

}  // namespace

// time.format(ts[, fmt]) -> string. Default "%Y-%m-%dT%H:%M:%S%.fZ" (RFC 3339 in UTC, with
// fractional seconds when ts has them).
static int time_format(lua_State* L) {
  int64_t secs = 0, us = 0;
  if (lua_isinteger(L, 1)) {
    secs = lua_tointeger(L, 1);
  } else {
    lua_Number ts = luaL_checknumber(L, 1);
    check_value(L, std::isfinite(ts), 1, "timestamp must be a finite number");
    check_value(L, ts >= double(kMinTs) && ts < double(kMaxTs) + 1, 1,
                "timestamp out of range (years 0000..9999)");
    double f = std::floor(ts);
    secs = static_cast<int64_t>(f);
    us = std::llround((ts - f) * 1e6);
    if (us >= 1000000) secs += 1, us -= 1000000;
  }
  check_value(L, secs >= kMinTs && secs <= kMaxTs, 1, "timestamp out of range (years 0000..9999)");
  size_t flen;
  const char* fmt = luaL_optlstring(L, 2, "%Y-%m-%dT%H:%M:%S%.fZ", &flen);

  int64_t days = floor_div(secs, 86400);
  int64_t rem = secs - days * 86400;
  int64_t year;
  int month, day;
  civil_from_days(days, year, month, day);
  struct tm tm {};
  tm.tm_year = static_cast<int>(year - 1900);
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = static_cast<int>(rem / 3600);
  tm.tm_min = static_cast<int>(rem / 60 % 60);
  tm.tm_sec = static_cast<int>(rem % 60);
  tm.tm_wday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  tm.tm_yday = static_cast<int>(days - days_from_civil(year, 1, 1));
  tm.tm_isdst = 0;
  tm.tm_gmtoff = 0;
  tm.tm_zone = "UTC";

  luaL_Buffer b;
  luaL_buffinit(L, &b);
  char out[128];
  for (size_t i = 0; i < flen; ++i) {
    char c = fmt[i];
    if (c != '%') {
      luaL_addchar(&b, c);
      continue;
    }
    size_t start = i;
    if (++i >= flen) value_error(L, 2, "format ends with a lone '%'");
    c = fmt[i];
    // Our conversions: fractions (chrono's %f, %3f/%6f/%9f, %.f, %.3f/%.6f/%.9f), %s, %Z, %z, %:z,
    // and the zero-padded 4-digit %Y and %F.
    bool dot = false;
    if (c == '.') {
      dot = true;
      if (++i >= flen) value_error(L, 2, "format ends inside a conversion");
      c = fmt[i];
    }
    if (c == '3' || c == '6' || c == '9') {
      if (i + 1 < flen && fmt[i + 1] == 'f') {
        ++i;
        add_fraction(&b, us, c - '0', dot);
        continue;
      }
    }
    if (c == 'f') {
      add_fraction(&b, us, dot ? 0 : 9, dot);
      continue;
    }
    if (dot) goto unknown;
    switch (c) {
      case '%': luaL_addchar(&b, '%'); continue;
      case 's': std::snprintf(out, sizeof out, "%lld", static_cast<long long>(secs)); luaL_addstring(&b, out); continue;
      case 'Z': luaL_addstring(&b, "UTC"); continue;
      case 'z': luaL_addstring(&b, "+0000"); continue;
      case ':':
        if (i + 1 < flen && fmt[i + 1] == 'z') {
          ++i;
          luaL_addstring(&b, "+00:00");
          continue;
        }
        goto unknown;
      case 'Y': std::snprintf(out, sizeof out, "%04d", static_cast<int>(year)); luaL_addstring(&b, out); continue;
      case 'F':
        std::snprintf(out, sizeof out, "%04d-%02d-%02d", static_cast<int>(year), month, day);
        luaL_addstring(&b, out);
        continue;
      default: break;
    }
    {
      // strftime's own, with an optional glibc flag (%-d, %_H, %^a, %#b, %0e).
      char spec[4] = {'%', 0, 0, 0};
      int k = 1;
      if (std::strchr("-_0^#", c) && i + 1 < flen) {
        spec[k++] = c;
        c = fmt[++i];
      }
      if (!c || !std::strchr("aAbBcCdDeGghHIjmMnprRStTuUVwWxXyY", c)) goto unknown;
      spec[k] = c;
      size_t n = std::strftime(out, sizeof out, spec, &tm);
      luaL_addlstring(&b, out, n);
      continue;
    }
  unknown: {
    char msg[96];
    size_t len = std::min<size_t>(i - start + 1, 8);
    std::snprintf(msg, sizeof msg, "unknown conversion '%.*s' in format", static_cast<int>(len), fmt + start);
    value_error(L, 2, msg);
  }
  }
  luaL_pushresult(&b);
  return 1;
}

namespace {

struct Parsed {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int yday = -1;     // %j, 1-based
  int hour12 = -1;   // %I
  int pm = -1;       // %p: 0 AM, 1 PM
  int offset = 0;    // seconds east of UTC
  double frac = 0;   // fraction of a second
  bool has_frac = false;
  bool has_epoch = false, has_month = false, has_day = false;
  int64_t epoch = 0;
};

struct Cursor {
  const char* s;
  size_t n, i;
  char* err;
  size_t errcap;
  bool fail(const char* what) {
    if (i < n)
      std::snprintf(err, errcap, "%s at position %zu", what, i + 1);
    else
      std::snprintf(err, errcap, "%s at the end", what);
    return false;
  }
  bool digit() const { return i < n && s[i] >= '0' && s[i] <= '9'; }
  // min..max digits.
  bool number(int min, int max, int64_t& v, const char* what) {
    size_t start = i;
    v = 0;
    while (digit() && static_cast<int>(i - start) < max) v = v * 10 + (s[i++] - '0');
    if (static_cast<int>(i - start) < min) {
      i = start;
      char m[64];
      std::snprintf(m, sizeof m, "expected %s", what);
      return fail(m);
    }
    return true;
  }
  bool lit(char c) {
    if (i < n && s[i] == c) {
      ++i;
      return true;
    }
    char m[48];
    std::snprintf(m, sizeof m, "expected '%c'", c);
    return fail(m);
  }
  // One or more fractional digits (the first 9 count).
  bool fraction(Parsed& p) {
    size_t start = i;
    int64_t v = 0;
    int digits = 0;
    while (digit()) {
      if (digits < 9) v = v * 10 + (s[i] - '0'), ++digits;
      ++i;
    }
    if (i == start) return fail("expected fractional digits");
    static const double kPow[] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
    p.frac = double(v) / kPow[digits];
    p.has_frac = v != 0 || p.has_frac;
    return true;
  }
  // Z, z, +HH:MM, +HHMM, +HH (and -).
  bool zone(Parsed& p) {
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
      ++i;
      p.offset = 0;
      return true;
    }
    if (i >= n || (s[i] != '+' && s[i] != '-')) return fail("expected a time zone offset (Z or +hh:mm)");
    int sign = s[i++] == '-' ? -1 : 1;
    int64_t hh, mm = 0;
    if (!number(2, 2, hh, "the offset's hours (hh)")) return false;
    if (i < n && s[i] == ':') {
      ++i;
      if (!number(2, 2, mm, "the offset's minutes (mm)")) return false;
    } else if (digit()) {
      if (!number(2, 2, mm, "the offset's minutes (mm)")) return false;
    }
    if (hh > 23 || mm > 59) {
      std::snprintf(err, errcap, "offset %c%02d:%02d is out of range (-23:59..+23:59)", sign < 0 ? '-' : '+',
                    static_cast<int>(hh), static_cast<int>(mm));
      return false;
    }
    p.offset = sign * static_cast<int>(hh * 3600 + mm * 60);
    return true;
  }
  // A name from `names` (full or its first 3 letters), case-insensitively; returns its index.
  bool name(const char* const* names, int count, int& idx, const char* what) {
    for (int k = 0; k < count; ++k) {
      size_t full = std::strlen(names[k]);
      if (i + full <= n && strncasecmp(s + i, names[k], full) == 0) {
        idx = k;
        i += full;
        return true;
      }
    }
    for (int k = 0; k < count; ++k) {
      if (i + 3 <= n && strncasecmp(s + i, names[k], 3) == 0) {
        idx = k;
        i += 3;
        return true;
      }
    }
    char m[64];
    std::snprintf(m, sizeof m, "expected %s", what);
    return fail(m);
  }
};

// RFC 3339 and its usual relaxations: YYYY-MM-DD, then optionally [T|t| ]hh:mm[:ss[.frac]],
// then optionally Z or an offset (none: UTC).
bool parse_rfc3339(Cursor& c, Parsed& p) {
  int64_t v;
  if (!c.number(4, 4, p.year, "a 4-digit year")) return false;
  if (!c.lit('-') || !c.number(2, 2, v, "a 2-digit month")) return false;
  p.month = static_cast<int>(v);
  if (!c.lit('-') || !c.number(2, 2, v, "a 2-digit day")) return false;
  p.day = static_cast<int>(v);
  p.has_month = p.has_day = true;
  if (c.i == c.n) return true;
  if (c.s[c.i] != 'T' && c.s[c.i] != 't' && c.s[c.i] != ' ') return c.fail("expected 'T' between date and time");
  ++c.i;
  if (!c.number(2, 2, v, "a 2-digit hour")) return false;
  p.hour = static_cast<int>(v);
  if (!c.lit(':') || !c.number(2, 2, v, "2-digit minutes")) return false;
  p.minute = static_cast<int>(v);
  if (c.i < c.n && c.s[c.i] == ':') {
    ++c.i;
    if (!c.number(2, 2, v, "2-digit seconds")) return false;
    p.second = static_cast<int>(v);
    if (c.i < c.n && (c.s[c.i] == '.' || c.s[c.i] == ',')) {
      ++c.i;
      if (!c.fraction(p)) return false;
    }
  }
  if (c.i < c.n && !c.zone(p)) return false;
  if (c.i < c.n) return c.fail("unexpected text");
  return true;
}

bool is_space(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

// strptime-style, with the conversions time.format writes.
bool parse_format(Cursor& c, const char* fmt, size_t flen, Parsed& p) {
  int64_t v;
  for (size_t k = 0; k < flen; ++k) {
    char f = fmt[k];
    if (is_space(f)) {
      while (c.i < c.n && is_space(c.s[c.i])) ++c.i;
      continue;
    }
    if (f != '%') {
      if (!c.lit(f)) return false;
      continue;
    }
    if (++k >= flen) {
      std::snprintf(c.err, c.errcap, "format ends with a lone '%%'");
      return false;
    }
    f = fmt[k];
    if (f == '-' || f == '_' || f == '0') {  // padding flags: parsing is lenient anyway
      if (++k >= flen) break;
      f = fmt[k];
    }
    bool dot = false;
    if (f == '.') {
      dot = true;
      if (++k >= flen) break;
      f = fmt[k];
    }
    if ((f == '3' || f == '6' || f == '9') && k + 1 < flen && fmt[k + 1] == 'f') f = fmt[++k];
    if (f == 'f') {
      if (dot) {
        if (c.i < c.n && c.s[c.i] == '.') {
          ++c.i;
          if (!c.fraction(p)) return false;
        }
      } else if (!c.fraction(p)) {
        return false;
      }
      continue;
    }
    if (dot) goto unknown;
    switch (f) {
      case '%':
        if (!c.lit('%')) return false;
        break;
      case 'Y':
        if (!c.number(4, 4, p.year, "a 4-digit year")) return false;
        break;
      case 'y':
        if (!c.number(2, 2, v, "a 2-digit year")) return false;
        p.year = v < 69 ? 2000 + v : 1900 + v;
        break;
      case 'm':
        if (!c.number(1, 2, v, "a month number")) return false;
        p.month = static_cast<int>(v), p.has_month = true;
        break;
      case 'd':
      case 'e':
        if (f == 'e' && c.i < c.n && c.s[c.i] == ' ') ++c.i;
        if (!c.number(1, 2, v, "a day of the month")) return false;
        p.day = static_cast<int>(v), p.has_day = true;
        break;
      case 'j':
        if (!c.number(1, 3, v, "a day of the year")) return false;
        p.yday = static_cast<int>(v);
        break;
      case 'H':
        if (!c.number(1, 2, v, "an hour")) return false;
        p.hour = static_cast<int>(v);
        break;
      case 'I':
        if (!c.number(1, 2, v, "an hour (1..12)")) return false;
        p.hour12 = static_cast<int>(v);
        break;
      case 'M':
        if (!c.number(1, 2, v, "minutes")) return false;
        p.minute = static_cast<int>(v);
        break;
      case 'S':
        if (!c.number(1, 2, v, "seconds")) return false;
        p.second = static_cast<int>(v);
        break;
      case 'p':
      case 'P':
        if (c.i + 2 <= c.n && strncasecmp(c.s + c.i, "AM", 2) == 0) p.pm = 0;
        else if (c.i + 2 <= c.n && strncasecmp(c.s + c.i, "PM", 2) == 0) p.pm = 1;
        else return c.fail("expected AM or PM");
        c.i += 2;
        break;
      case 'b':
      case 'B':
      case 'h': {
        int idx;
        if (!c.name(kMonths, 12, idx, "a month name")) return false;
        p.month = idx + 1, p.has_month = true;
        break;
      }
      case 'a':
      case 'A': {
        int idx;
        if (!c.name(kDays, 7, idx, "a weekday name")) return false;
        break;  // not checked against the date
      }
      case 'z':
        if (!c.zone(p)) return false;
        break;
      case ':':
        if (k + 1 < flen && fmt[k + 1] == 'z') {
          ++k;
          if (!c.zone(p)) return false;
          break;
        }
        goto unknown;
      case 'Z':
        if (c.i + 3 <= c.n && (strncasecmp(c.s + c.i, "UTC", 3) == 0 || strncasecmp(c.s + c.i, "GMT", 3) == 0)) c.i += 3;
        else if (c.i < c.n && (c.s[c.i] == 'Z' || c.s[c.i] == 'z')) c.i += 1;
        else return c.fail("expected UTC, GMT or Z (other zone names are not known)");
        p.offset = 0;
        break;
      case 's': {
        bool neg = c.i < c.n && c.s[c.i] == '-';
        if (neg) ++c.i;
        if (!c.number(1, 12, v, "seconds since the epoch")) return false;
        p.epoch = neg ? -v : v, p.has_epoch = true;
        break;
      }
      case 'T':
        if (!parse_format(c, "%H:%M:%S", 8, p)) return false;
        break;
      case 'R':
        if (!parse_format(c, "%H:%M", 5, p)) return false;
        break;
      case 'F':
        if (!parse_format(c, "%Y-%m-%d", 8, p)) return false;
        break;
      case 'D':
        if (!parse_format(c, "%m/%d/%y", 8, p)) return false;
        break;
      case 'n':
      case 't':
        while (c.i < c.n && is_space(c.s[c.i])) ++c.i;
        break;
      default:
        goto unknown;
    }
    continue;
  unknown:
    std::snprintf(c.err, c.errcap, "unknown conversion '%%%c' in format", f);
    return false;
  }
  return true;
}

// Checks the fields and computes the timestamp (seconds; the fraction is in p.frac).
bool to_timestamp(Parsed& p, int64_t& out, char* err, size_t cap) {
  if (p.has_epoch) {
    out = p.epoch;
    return true;
  }
  if (p.hour12 >= 0) {
    if (p.hour12 < 1 || p.hour12 > 12) return std::snprintf(err, cap, "hour %d is out of range (1..12)", p.hour12), false;
    p.hour = p.hour12 % 12 + (p.pm == 1 ? 12 : 0);
  } else if (p.pm == 1 && p.hour < 12) {
    p.hour += 12;
  }
  if (p.yday >= 0 && !p.has_month && !p.has_day) {
    int max = is_leap(p.year) ? 366 : 365;
    if (p.yday < 1 || p.yday > max)
      return std::snprintf(err, cap, "day of the year %d is out of range (%04d has %d days)", p.yday, static_cast<int>(p.year), max), false;
    out = days_from_civil(p.year, 1, 1) + p.yday - 1;
  } else {
    if (p.month < 1 || p.month > 12) return std::snprintf(err, cap, "month %d is out of range (1..12)", p.month), false;
    int dim = days_in_month(p.year, p.month);
    if (p.day < 1 || p.day > dim)
      return std::snprintf(err, cap, "day %d is out of range (%s %04d has %d days)", p.day, kMonths[p.month - 1],
                           static_cast<int>(p.year), dim),
             false;
    out = days_from_civil(p.year, p.month, p.day);
  }
  if (p.hour > 23) return std::snprintf(err, cap, "hour %d is out of range (0..23)", p.hour), false;
  if (p.minute > 59) return std::snprintf(err, cap, "minute %d is out of range (0..59)", p.minute), false;
  if (p.second > 60) return std::snprintf(err, cap, "second %d is out of range (0..60)", p.second), false;
  out = out * 86400 + p.hour * 3600 + p.minute * 60 + p.second - p.offset;
  return true;
}

}  // namespace

// time.parse(s[, fmt]) -> seconds since the epoch (an integer, or a float with a fraction).
static int time_parse(lua_State* L) {
  size_t n, flen = 0;
  const char* s = luaL_checklstring(L, 1, &n);
  const char* fmt = luaL_optlstring(L, 2, nullptr, &flen);
  char err[160] = {};
  Parsed p;
  Cursor c{s, n, 0, err, sizeof err};
  int64_t ts = 0;
  bool ok = fmt ? parse_format(c, fmt, flen, p) && (c.i == c.n || c.fail("unexpected text")) : parse_rfc3339(c, p);
  if (ok) ok = to_timestamp(p, ts, err, sizeof err);
  if (!ok) {
    char q[80];
    quote(s, n, q, sizeof q);
    char msg[300];
    std::snprintf(msg, sizeof msg, "time.parse: cannot parse %s%s: %s", q, fmt ? " with the format" : " as RFC 3339", err);
    raise(L, "EINVAL", msg);
  }
  if (p.has_frac && p.frac != 0) lua_pushnumber(L, double(ts) + p.frac);
  else lua_pushinteger(L, ts);
  return 1;
}

int open_time(lua_State* L) {
  const luaL_Reg funcs[] = {{"now", time_now},
                            {"now_ms", time_now_ms},
                            {"monotonic", time_monotonic},
                            {"monotonic_ms", time_monotonic_ms},
                            {"sleep", time_sleep},
                            {"format", time_format},
                            {"parse", time_parse},
                            {nullptr, nullptr}};
  luaL_newlib(L, funcs);
  return 1;
}

// --- timers -----------------------------------------------------------------------------------

namespace {  // this file's types

struct Timer {
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
  Clock::duration interval{};
  bool repeat = false;
  Callback callback;  // fn and its extra arguments
};

struct Timers {
  std::unordered_map<lua_Integer, std::shared_ptr<Timer>> active;
  lua_Integer next_id = 1;
  Engine* engine = nullptr;
  uint64_t shutdown_hook = 0;
};

static Timers& timers_of(lua_State* L) {
  return *static_cast<Timers*>(lua_touserdata(L, lua_upvalueindex(1)));
}

static void clear_timer(lua_State*, Timers& ts, lua_Integer id) {
  auto it = ts.active.find(id);
  if (it == ts.active.end()) return;
  it->second->timer.cancel();
  it->second->callback.release();
  ts.active.erase(it);
}

static void arm(Engine& engine, Timers& ts, lua_Integer id, std::shared_ptr<Timer> t) {
  t->timer.async_wait([&engine, &ts, id, t](const boost::system::error_code& ec) {
    if (ec || !ts.active.count(id)) return;
    if (t->repeat) {
      t->timer.expires_at(t->timer.expiry() + t->interval);  // no drift
      arm(engine, ts, id, t);
      t->callback.run();  // the callback may clear its own interval
    } else {
      Callback cb = std::move(t->callback);  // released once its task started
      ts.active.erase(id);
      cb.run();
    }
  });
}

static int set_timer(lua_State* L, bool repeat) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  int64_t ms = check_delay(L, 2, 1, 0, "delay");
  if (repeat && ms == 0) ms = 1;  // an interval of 0 would spin
  Engine& engine = Engine::of(L);
  Timers& ts = timers_of(L);
  auto t = std::make_shared<Timer>(engine.io());
  lua_remove(L, 2);  // setTimeout(fn, ms, a, b): fn(a, b)
  t->callback = Callback(L, 1, lua_gettop(L) - 1);
  t->repeat = repeat;
  if (ms == kForever) {
    t->repeat = false;  // it never fires
    t->timer.expires_at(Clock::time_point::max());
  } else {
    t->interval = std::chrono::milliseconds(ms);
    t->timer.expires_after(t->interval);
  }
  lua_Integer id = ts.next_id++;
  ts.active.emplace(id, t);
  arm(engine, ts, id, t);
  lua_pushinteger(L, id);
  return 1;
}

static int set_timeout(lua_State* L) { return set_timer(L, false); }
static int set_interval(lua_State* L) { return set_timer(L, true); }

static int clear_timeout(lua_State* L) {
  if (lua_isnoneornil(L, 1)) return 0;
  clear_timer(L, timers_of(L), luaL_checkinteger(L, 1));
  return 0;
}

// Graceful shutdown (SIGINT/SIGTERM) cancels every timer: a pending setInterval or setTimeout
// must neither keep the process alive nor fire after the signal.
static void clear_all_timers(lua_State* L, Timers& ts) {
  while (!ts.active.empty()) clear_timer(L, ts, ts.active.begin()->first);
}

static int timers_gc(lua_State* L) {
  auto* ts = static_cast<Timers*>(lua_touserdata(L, 1));
  ts->engine->remove_shutdown_hook(ts->shutdown_hook);
  ts->~Timers();
  return 0;
}

}  // namespace

int open_timers(lua_State* L) {
  void* mem = lua_newuserdatauv(L, sizeof(Timers), 0);
  auto* ts = new (mem) Timers();
  Engine& engine = Engine::of(L);
  ts->engine = &engine;
  ts->shutdown_hook = engine.add_shutdown_hook([ts, &engine] { clear_all_timers(engine.L(), *ts); });
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, timers_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  const luaL_Reg funcs[] = {{"setTimeout", set_timeout},
                            {"setInterval", set_interval},
                            {"clearTimeout", clear_timeout},
                            {"clearInterval", clear_timeout},
                            {nullptr, nullptr}};
  lua_newtable(L);  // module table: timers.setTimeout, ...
  for (const luaL_Reg* f = funcs; f->name; ++f) {
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, f->func, 1);
    lua_pushvalue(L, -1);
    lua_setglobal(L, f->name);
    lua_setfield(L, -2, f->name);
  }
  lua_remove(L, -2);
  return 1;
}

}  // namespace mw
