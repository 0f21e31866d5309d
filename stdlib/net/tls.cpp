#include "stdlib/net/tls.hpp"

#include <boost/asio/ip/address.hpp>
#include <map>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace mw::tls {

namespace ssl = boost::asio::ssl;

std::string Options::key() const {
  if (!enabled) return "plain";
  return std::string(verify ? "v" : "nv") + "|" + ca_file + "|" + cert_file + "|" + key_file + "|" + server_name;
}

Options read_options(lua_State* L, int idx, bool check_keys) {
  idx = lua_absindex(L, idx);
  if (lua_isnoneornil(L, idx)) return Options{};
  if (lua_isboolean(L, idx)) {
    Options o;
    o.enabled = lua_toboolean(L, idx);
    return o;
  }
  if (!lua_istable(L, idx)) {
    lua_pushvalue(L, idx);
    option_error(L, "tls", "a boolean or a table");
  }
  // Everything is checked before the (string-holding) Options exists: a raise longjmps.
  static const char* const known[] = {"enabled", "verify", "ca_file", "cert_file", "key_file", "server_name", nullptr};
  if (check_keys) check_options(L, idx, "tls", known);
  bool enabled = opt_bool_field(L, idx, "enabled", true);
  bool verify = opt_bool_field(L, idx, "verify", true);
  std::string_view ca_file = opt_sv_field(L, idx, "ca_file");
  std::string_view cert_file = opt_sv_field(L, idx, "cert_file");
  std::string_view key_file = opt_sv_field(L, idx, "key_file");
  std::string_view server_name = opt_sv_field(L, idx, "server_name");
  Options o;
  o.enabled = enabled;
  o.verify = verify;
  o.ca_file = ca_file;
  o.cert_file = cert_file;
  o.key_file = key_file;
  o.server_name = server_name;
  return o;
}

static std::string openssl_error(const char* what, const std::string& file) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  std::string msg = std::string("tls: cannot load ") + what + " '" + file + "'";
  if (e) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    msg += ": ";
    msg += buf;
  }
  return msg;
}

static bool load_identity(ssl::context& ctx, const Options& o, std::string& error) {
  SSL_CTX* c = ctx.native_handle();
  if (!o.cert_file.empty() && SSL_CTX_use_certificate_chain_file(c, o.cert_file.c_str()) != 1) {
    error = openssl_error("cert_file", o.cert_file);
    return false;
  }
  if (!o.key_file.empty() && SSL_CTX_use_PrivateKey_file(c, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = openssl_error("key_file", o.key_file);
    return false;
  }
  if (!o.cert_file.empty() && !o.key_file.empty() && SSL_CTX_check_private_key(c) != 1) {
    error = openssl_error("key_file (does not match cert_file)", o.key_file);
    return false;
  }
  return true;
}

std::shared_ptr<ssl::context> client_context(const Options& o, std::string& error) {
  static std::map<std::string, std::shared_ptr<ssl::context>> cache;
  std::string key = o.key();
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  if (o.verify) {
    ctx->set_verify_mode(ssl::verify_peer);
    if (!o.ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(c, o.ca_file.c_str(), nullptr) != 1) {
        error = openssl_error("ca_file", o.ca_file);
        return nullptr;
      }
    } else {
      SSL_CTX_set_default_verify_paths(c);
    }
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  if (!load_identity(*ctx, o, error)) return nullptr;
  cache.emplace(key, ctx);
  return ctx;
}

std::shared_ptr<ssl::context> server_context(const Options& o, std::string& error) {
  static std::map<std::string, std::shared_ptr<ssl::context>> cache;
  if (o.cert_file.empty() || o.key_file.empty()) {
    error = "tls: a server needs cert_file and key_file";
    return nullptr;
  }
  std::string key = o.key();
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  if (!load_identity(*ctx, o, error)) return nullptr;
  if (!o.ca_file.empty()) {  // client certificates requested and verified against ca_file
    if (SSL_CTX_load_verify_locations(ctx->native_handle(), o.ca_file.c_str(), nullptr) != 1) {
      error = openssl_error("ca_file", o.ca_file);
      return nullptr;
    }
    ctx->set_verify_mode(o.verify ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert : ssl::verify_none);
  }
  cache.emplace(key, ctx);
  return ctx;
}

bool prepare_client_handle(SSL* ssl, const Options& o, const std::string& host, std::string& error) {
  const std::string& name = o.server_name.empty() ? host : o.server_name;
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(name, ec);
  bool is_ip = !ec;
  // SNI carries host names only, never IP literals (RFC 6066).
  if (!is_ip && !name.empty() && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    error = "tls: invalid server name '" + name + "'";
    return false;
  }
  if (o.verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, ip.to_string().c_str())
                   : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
    if (ok != 1) {
      error = "tls: cannot verify server name '" + name + "'";
      return false;
    }
  }
  return true;
}

}  // namespace mw::tls

#include "runtime/errors.hpp"

namespace mw::tls {

void describe_handshake_error(SSL* ssl, const boost::system::error_code& ec, std::string& code, std::string& message) {
  long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (vr != X509_V_OK) {
    code = "ECERT";
    message = std::string("TLS handshake failed: certificate verify failed: ") + X509_verify_cert_error_string(vr);
    return;
  }
  code = error_code_name(ec);
  if (code != "ETIMEDOUT" && code != "ECONNRESET" && code != kCancelled) code = "ETLS";
  message = "TLS handshake failed: " + error_text(ec);
}

}  // namespace mw::tls
