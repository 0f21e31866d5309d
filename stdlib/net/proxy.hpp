#pragma once
// Proxy selection helpers shared by net.http (environment variables, NO_PROXY matching).
#include <optional>
#include <string>
#include <string_view>

#include "stdlib/net/connect.hpp"

namespace mw::net {

// curl-compatible NO_PROXY matching: "*" matches everything; entries are comma separated host
// names (suffix match on label boundaries, a leading dot is ignored), IP addresses or CIDR
// blocks (for IP hosts).
bool no_proxy_matches(std::string_view no_proxy, std::string_view host);

// The proxy the environment selects for a request to scheme://host (http_proxy/HTTP_PROXY for
// http, https_proxy/HTTPS_PROXY for https, then all_proxy/ALL_PROXY), unless NO_PROXY matches.
// Returns nullopt for "no proxy"; on a malformed variable sets `error` (and returns nullopt).
std::optional<ProxySpec> proxy_from_env(std::string_view scheme, std::string_view host, std::string& error);

// "scheme://[user@]host:port", identifying a proxy (pool keys, messages); no password.
std::string proxy_id(const ProxySpec& p);

// The status line of a proxy's answer to CONNECT ("HTTP/1.1 200 Connection established\r\n..."):
// false unless it is "HTTP/x SP three digits (SP reason)"; reason may be empty.
bool parse_connect_status(std::string_view head, int& status, std::string& reason);

// "Basic base64(user:password)"
std::string basic_auth(std::string_view user, std::string_view password);

// "host:port", with brackets for IPv6 literals.
std::string host_port_string(std::string_view host, uint16_t port);

// Like read_proxy_option, but never raises (safe inside a suspend() start lambda, where C++
// objects are alive): false + error for a malformed value; out = nullopt for nil/false.
bool proxy_option(lua_State* L, int opts_idx, std::optional<ProxySpec>& out, std::string& error);

int open_socks5(lua_State* L);

}  // namespace mw::net
