#pragma once
// HTTP pieces shared by net.ws (both sides) and the HTTP server: header collection with case
// folding, the Lua form of a header list, and the authority text used to compare an Origin
// with a Host. Beast-free declarations; collect_headers is a template over any Beast fields.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/lua.hpp"
#include "stdlib/net/url.hpp"  // lower()

namespace mw::net {

// Header name (lower case) and value, in arrival order; a repeated name appears once, its
// values joined with ", " (RFC 9110 5.3).
using Headers = std::vector<std::pair<std::string, std::string>>;

template <class Fields>
Headers collect_headers(const Fields& f) {
  Headers h;
  for (const auto& field : f) {
    std::string name = lower(field.name_string());
    std::string value(field.value());
    auto it = std::find_if(h.begin(), h.end(), [&](const auto& p) { return p.first == name; });
    if (it != h.end())
      it->second += ", " + value;
    else
      h.emplace_back(std::move(name), std::move(value));
  }
  return h;
}

// Pushes {name = value, ...}.
void push_headers(lua_State* L, const Headers& h);

// The host:port part of an Origin ("http://a.example:8080" -> "a.example:8080"), default
// ports removed, lower case.
std::string origin_authority(std::string_view origin);
// A Host header value in the same form (`secure`: the default port is 443, else 80).
std::string host_authority(std::string_view host, bool secure);

// The comma-separated tokens of a header value ("a, b ,c" -> a b c), empty ones skipped.
std::vector<std::string> split_tokens(std::string_view value);

}  // namespace mw::net
