// HTTP pieces shared by net.ws and the HTTP server: see http_common.hpp.
#include "stdlib/net/http_common.hpp"

#include <boost/url/parse.hpp>

namespace mw::net {

void push_headers(lua_State* L, const Headers& h) {
  lua_createtable(L, 0, static_cast<int>(h.size()));
  for (const auto& [k, v] : h) {
    push_sv(L, v);
    lua_setfield(L, -2, k.c_str());
  }
}

namespace {
void strip_suffix(std::string& s, std::string_view suffix) {
  if (s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0)
    s.resize(s.size() - suffix.size());
}
}  // namespace

std::string origin_authority(std::string_view origin) {
  auto r = boost::urls::parse_uri(origin);
  if (!r) return lower(origin);
  std::string scheme = lower(r->scheme());
  std::string host = lower(r->encoded_host_and_port());
  if (scheme == "http" || scheme == "ws") strip_suffix(host, ":80");
  if (scheme == "https" || scheme == "wss") strip_suffix(host, ":443");
  return host;
}

std::string host_authority(std::string_view host, bool secure) {
  std::string h = lower(host);
  strip_suffix(h, secure ? ":443" : ":80");
  return h;
}

std::vector<std::string> split_tokens(std::string_view value) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos <= value.size();) {
    size_t comma = value.find(',', pos);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view tok = value.substr(pos, comma - pos);
    while (!tok.empty() && (tok.front() == ' ' || tok.front() == '\t')) tok.remove_prefix(1);
    while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\t')) tok.remove_suffix(1);
    if (!tok.empty()) out.emplace_back(tok);
    pos = comma + 1;
  }
  return out;
}

}  // namespace mw::net
