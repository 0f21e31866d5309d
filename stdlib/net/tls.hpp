#pragma once
// TLS settings shared by net.tcp, net.ws and net.http: `tls = true | false | {verify, ca_file,
// cert_file, key_file, server_name}`. Peers are verified against the system store by default.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>

#include "runtime/lua.hpp"

namespace mw::tls {

struct Options {
  bool enabled = false;
  bool verify = true;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;  // overrides the host name used for SNI and verification
  std::string key() const;  // identifies the settings (pooling, context cache)
};

// Reads the value at `idx` (nil, boolean or table) as TLS options; raises on bad fields
// (before constructing anything). Call it, or validate_options, before C++ objects are alive.
// `check_keys` = false for a table that also holds other options (starttls).
Options read_options(lua_State* L, int idx, bool check_keys = true);
inline void validate_options(lua_State* L, int idx, bool check_keys = true) { (void)read_options(L, idx, check_keys); }

// Contexts are cached per settings: loading the system store costs milliseconds.
// On failure (unreadable files, ...) returns null and sets `error`.
std::shared_ptr<boost::asio::ssl::context> client_context(const Options& o, std::string& error);
std::shared_ptr<boost::asio::ssl::context> server_context(const Options& o, std::string& error);

// Sets SNI and host name verification on a client stream. Returns false and sets `error` if
// the name cannot be set.
template <class Stream>
bool prepare_client(boost::asio::ssl::stream<Stream>& s, const Options& o, const std::string& host,
                    std::string& error) {
  return prepare_client_handle(s.native_handle(), o, host, error);
}
bool prepare_client_handle(SSL* ssl, const Options& o, const std::string& host, std::string& error);

}  // namespace mw::tls

namespace mw::tls {
// Describes a failed handshake: code "ECERT" when the peer's certificate was rejected (with
// OpenSSL's reason: expired, self-signed, host name mismatch, ...), "ETLS" otherwise.
void describe_handshake_error(SSL* ssl, const boost::system::error_code& ec, std::string& code, std::string& message);
}  // namespace mw::tls
