// RFC 6265 cookie jar: parsing Set-Cookie (5.2), storage (5.3) and the Cookie header (5.4).
#include "stdlib/net/cookies.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>

namespace mw::net {

namespace {

char lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower_copy(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = lower_char(c);
  return r;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower_char(a[i]) != lower_char(b[i])) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Control characters other than tab make a received cookie invalid (RFC 6265bis 5.6 step 3).
bool has_ctl(std::string_view s) {
  for (unsigned char c : s)
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  return false;
}

bool date_delimiter(unsigned char c) {
  return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) || (c >= 0x5b && c <= 0x60) ||
         (c >= 0x7b && c <= 0x7e);
}

// Reads 1..max digits at the start of t; n = how many. Returns the value.
int leading_number(std::string_view t, size_t max, size_t& n) {
  n = 0;
  int v = 0;
  while (n < t.size() && n < max && is_digit(t[n])) v = v * 10 + (t[n++] - '0');
  return v;
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

// The earliest representable time: an already expired cookie (Max-Age <= 0).
constexpr int64_t kEarliest = INT64_MIN / 2;
// Far-future expiry dates are capped (a year 9999 cookie is simply "persistent").
constexpr int64_t kLatest = int64_t(253402300799);  // 9999-12-31T23:59:59Z

}  // namespace

std::optional<int64_t> parse_cookie_date(std::string_view s) {
  bool have_time = false, have_day = false, have_month = false, have_year = false;
  int hour = 0, minute = 0, second = 0, day = 0, month = 0, year = 0;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && date_delimiter(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !date_delimiter(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view tok = s.substr(start, i - start);
    if (tok.empty()) continue;
    size_t n;
    if (!have_time) {  // hms-time = time-field ":" time-field ":" time-field, then non-digits
      size_t a, b, c;
      int h = leading_number(tok, 2, a);
      if (a && a < tok.size() && tok[a] == ':') {
        int mi = leading_number(tok.substr(a + 1), 2, b);
        if (b && a + 1 + b < tok.size() && tok[a + 1 + b] == ':') {
          int se = leading_number(tok.substr(a + 2 + b), 2, c);
          size_t end = a + 2 + b + c;
          if (c && (end == tok.size() || !is_digit(tok[end]))) {
            have_time = true;
            hour = h, minute = mi, second = se;
            continue;
          }
        }
      }
    }
    if (!have_day) {
      int d = leading_number(tok, 2, n);
      if (n && (n == tok.size() || !is_digit(tok[n]))) {
        have_day = true;
        day = d;
        continue;
      }
    }
    if (!have_month && tok.size() >= 3) {
      static const char* const names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
      bool found = false;
      for (int m = 0; m < 12; ++m)
        if (iequal(tok.substr(0, 3), names[m])) {
          month = m + 1;
          found = true;
          break;
        }
      if (found) {
        have_month = true;
        continue;
      }
    }
    if (!have_year) {
      int y = leading_number(tok, 4, n);
      if (n >= 2 && (n == tok.size() || !is_digit(tok[n]))) {
        have_year = true;
        year = y;
        continue;
      }
    }
  }
  if (have_year && year >= 70 && year <= 99) year += 1900;
  if (have_year && year >= 0 && year <= 69) year += 2000;
  if (!have_time || !have_day || !have_month || !have_year) return std::nullopt;
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  if (static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) return std::nullopt;
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 + hour * 3600 +
         minute * 60 + second;
}

bool is_ip_address(std::string_view host) {
  std::string h(host);
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  unsigned char buf[16];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

bool domain_match(std::string_view host, std::string_view domain) {
  if (domain.empty()) return false;
  if (iequal(host, domain)) return true;
  if (host.size() <= domain.size() + 1) return false;
  return host[host.size() - domain.size() - 1] == '.' && iequal(host.substr(host.size() - domain.size()), domain) &&
         !is_ip_address(host);
}

std::string default_cookie_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return "/";
  size_t last = path.rfind('/');
  if (last == 0) return "/";
  return std::string(path.substr(0, last));
}

bool path_match(std::string_view req, std::string_view cpath) {
  if (req == cpath) return true;
  if (req.size() > cpath.size() && req.substr(0, cpath.size()) == cpath)
    return cpath.back() == '/' || req[cpath.size()] == '/';
  return false;
}

bool valid_cookie_name(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c >= '0' && c <= '9') continue;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') continue;
    if (c && std::strchr("!#$%&'*+-.^_`|~", c)) continue;
    return false;
  }
  return true;
}

bool valid_cookie_value(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  for (unsigned char c : s)
    if (c < 0x21 || c == '"' || c == ',' || c == ';' || c == '\\' || c == 0x7f) return false;
  return true;
}

bool CookieJar::set_from_header(const CookieUrl& from, std::string_view header, int64_t now, std::string* why) {
  auto ignore = [&](const char* reason) {
    if (why) *why = reason;
    return false;
  };
  size_t semi = header.find(';');
  std::string_view pair = header.substr(0, semi);
  std::string_view attrs = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
  size_t eq = pair.find('=');
  if (eq == std::string_view::npos) return ignore("no '=' in the name-value pair");
  Cookie c;
  std::string_view name = trim(pair.substr(0, eq)), value = trim(pair.substr(eq + 1));
  if (name.empty()) return ignore("empty cookie name");
  if (has_ctl(name) || has_ctl(value)) return ignore("control characters in the cookie");
  if (name.size() + value.size() > kMaxCookieBytes) return ignore("cookie larger than 4096 bytes");
  c.name = name;
  c.value = value;
  std::optional<int64_t> max_age, expires;
  std::string domain_attr;
  bool have_path = false;
  while (!attrs.empty()) {
    size_t next = attrs.find(';');
    std::string_view av = attrs.substr(0, next);
    attrs = next == std::string_view::npos ? std::string_view{} : attrs.substr(next + 1);
    size_t aeq = av.find('=');
    std::string_view an = trim(av.substr(0, aeq));
    std::string_view aval = aeq == std::string_view::npos ? std::string_view{} : trim(av.substr(aeq + 1));
    if (iequal(an, "expires")) {
      if (auto t = parse_cookie_date(aval)) expires = std::min(*t, kLatest);
    } else if (iequal(an, "max-age")) {
      if (aval.empty() || !(is_digit(aval[0]) || aval[0] == '-')) continue;
      bool digits = std::all_of(aval.begin() + 1, aval.end(), is_digit);
      if (!digits || aval == "-") continue;
      bool negative = aval[0] == '-';
      std::string_view d = negative ? aval.substr(1) : aval;
      int64_t delta = 0;
      for (char ch : d) {
        delta = delta * 10 + (ch - '0');
        if (delta > kLatest) break;
      }
      if (negative || delta <= 0)
        max_age = kEarliest;
      else
        max_age = std::min(now + delta, kLatest);
    } else if (iequal(an, "domain")) {
      if (aval.empty()) continue;
      if (aval.front() == '.') aval.remove_prefix(1);
      domain_attr = lower_copy(aval);
    } else if (iequal(an, "path")) {
      if (aval.empty() || aval.front() != '/') {
        have_path = false;
        continue;
      }
      c.path = aval;
      have_path = true;
    } else if (iequal(an, "secure")) {
      c.secure = true;
    } else if (iequal(an, "httponly")) {
      c.http_only = true;
    }  // other attributes (SameSite, Priority, ...) mean nothing to a non-browser client
  }
  if (max_age)
    c.expires = max_age;
  else if (expires)
    c.expires = expires;
  std::string host = lower_copy(from.host);
  if (!domain_attr.empty()) {
    if (domain_attr == host) {
      c.host_only = false;  // Domain=this host: also for its subdomains
    } else {
      if (!domain_match(host, domain_attr)) return ignore("the Domain attribute does not match the host");
      // No public suffix list: a single-label domain ("com", "localhost") is a suffix others share.
      if (domain_attr.find('.') == std::string::npos) return ignore("the Domain attribute is a top-level domain");
      c.host_only = false;
    }
    c.domain = domain_attr;
  } else {
    c.domain = host;
    c.host_only = true;
  }
  if (!have_path) c.path = default_cookie_path(from.path);
  if (c.secure && !from.secure()) return ignore("a Secure cookie from an insecure (http) URL");
  // RFC 6265bis 5.6 step 16: an insecure origin cannot overwrite or shadow a Secure cookie.
  if (!from.secure()) {
    purge(now);  // an expired Secure cookie protects nothing
    for (const auto& old : cookies_)
      if (old.secure && old.name == c.name &&
          (old.domain.empty() || domain_match(c.domain, old.domain) || domain_match(old.domain, c.domain)) &&
          path_match(c.path, old.path))
        return ignore("it would overwrite a Secure cookie from an insecure (http) URL");
  }
  set(std::move(c), now);
  return true;
}

void CookieJar::set(Cookie c, int64_t now) {
  auto same = [&](const Cookie& x) { return x.name == c.name && x.domain == c.domain && x.path == c.path; };
  auto it = std::find_if(cookies_.begin(), cookies_.end(), same);
  bool expired = c.expires && *c.expires <= now;
  if (it != cookies_.end()) {
    if (expired) {
      cookies_.erase(it);
      return;
    }
    c.created = it->created;
    *it = std::move(c);
    return;
  }
  if (expired) return;
  c.created = ++seq_;
  store(std::move(c), now);
}

void CookieJar::store(Cookie c, int64_t now) {
  std::string domain = c.domain;
  cookies_.push_back(std::move(c));
  size_t in_domain = 0;
  for (const auto& x : cookies_) in_domain += x.domain == domain;
  if (in_domain <= kMaxCookiesPerDomain && cookies_.size() <= kMaxCookies) return;
  purge(now);
  while (true) {
    in_domain = 0;
    for (const auto& x : cookies_) in_domain += x.domain == domain;
    bool per_domain = in_domain > kMaxCookiesPerDomain;
    if (!per_domain && cookies_.size() <= kMaxCookies) return;
    // cookies_ is in creation order: the first one of the domain (or overall) is the oldest.
    auto victim = per_domain ? std::find_if(cookies_.begin(), cookies_.end(), [&](const Cookie& x) { return x.domain == domain; })
                             : cookies_.begin();
    cookies_.erase(victim);
  }
}

void CookieJar::purge(int64_t now) {
  std::erase_if(cookies_, [&](const Cookie& c) { return c.expires && *c.expires <= now; });
}

std::vector<const Cookie*> CookieJar::matching(const CookieUrl& to, int64_t now) {
  purge(now);
  std::vector<const Cookie*> out;
  std::string host = lower_copy(to.host);
  std::string_view path = to.path.empty() ? std::string_view("/") : std::string_view(to.path);
  for (const auto& c : cookies_) {
    if (!c.domain.empty() && !(c.host_only ? host == c.domain : domain_match(host, c.domain))) continue;
    if (!path_match(path, c.path)) continue;
    if (c.secure && !to.secure()) continue;
    out.push_back(&c);
  }
  std::stable_sort(out.begin(), out.end(), [](const Cookie* a, const Cookie* b) {
    if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
    return a->created < b->created;
  });
  return out;
}

std::string CookieJar::header_for(const CookieUrl& to, int64_t now) {
  std::string h;
  for (const Cookie* c : matching(to, now)) {
    if (!h.empty()) h += "; ";
    h += c->name;
    h += '=';
    h += c->value;
  }
  return h;
}

std::vector<const Cookie*> CookieJar::all(int64_t now) {
  purge(now);
  std::vector<const Cookie*> out;
  for (const auto& c : cookies_) out.push_back(&c);
  return out;
}

}  // namespace mw::net
