#pragma once
// What net.tcp exports to other net modules.
#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "runtime/lua.hpp"

namespace mw::net {

// Pushes a net.tcp connection object wrapping an already connected socket; `host` is the name
// it was opened to (used by starttls for verification).
void push_tcp_conn(lua_State* L, boost::asio::ip::tcp::socket sock, std::string host);

}  // namespace mw::net
