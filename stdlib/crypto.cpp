// crypto: digests, HMAC, random bytes, UUIDs and the hex/base64 encodings, on OpenSSL 3.
// Every function takes strings or buffer objects (check_bytes) and is binary-safe. Outputs are
// built in luaL_Buffers or on the C stack: nothing with a destructor is alive when an error is
// raised.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cctype>
#include <climits>
#include <cstring>
#include <memory>
#include <string>

#include "runtime/engine.hpp"
#include "runtime/errors.hpp"
#include "runtime/lua.hpp"
#include "stdlib/buffer.hpp"
#include "runtime/suspend.hpp"
#include "stdlib/encoding.hpp"
#include "stdlib/fs.hpp"
#include "stdlib/modules.hpp"

namespace mw {
namespace {

namespace asio = boost::asio;

// Digests of strings this long run off the loop (below, a thread hop costs more than it saves).
constexpr size_t kOffloadBytes = size_t(1) << 20;

// The largest random_bytes request: 1 GiB.
constexpr lua_Integer kMaxRandomBytes = lua_Integer(1) << 30;

enum Algo { kMd5, kSha1, kSha256, kSha512, kAlgoCount };
constexpr const char* kAlgoNames[kAlgoCount] = {"md5", "sha1", "sha256", "sha512"};
constexpr const char* kHashFuncs[kAlgoCount] = {"crypto.md5", "crypto.sha1", "crypto.sha256", "crypto.sha512"};

// The digest implementations, fetched once per process: immutable and shared, like the
// default library context they come from (not module state).
const EVP_MD* digest(lua_State* L, Algo a) {
  static const EVP_MD* const mds[kAlgoCount] = {
      EVP_MD_fetch(nullptr, "MD5", nullptr),
      EVP_MD_fetch(nullptr, "SHA1", nullptr),
      EVP_MD_fetch(nullptr, "SHA256", nullptr),
      EVP_MD_fetch(nullptr, "SHA512", nullptr),
  };
  if (!mds[a]) raisef(L, "EINVAL", "%s is not available in this OpenSSL configuration", kAlgoNames[a]);
  return mds[a];
}

// The text of OpenSSL's last error (clears its queue), pushed on the Lua stack.
const char* push_openssl_error(lua_State* L) {
  char text[256] = "unknown error";
  unsigned long e = ERR_get_error();
  if (e) ERR_error_string_n(e, text, sizeof text);
  ERR_clear_error();
  return lua_pushstring(L, text);
}

// The optional options table { raw = bool } of the digest functions.
bool opt_raw(lua_State* L, int idx, const char* fname) {
  static const char* const kKnown[] = {"raw", nullptr};
  if (lua_isnoneornil(L, idx)) return false;
  check_options(L, idx, fname, kKnown);
  return opt_bool_field(L, idx, "raw", false);
}

void push_digest(lua_State* L, const unsigned char* md, unsigned len, bool raw) {
  if (raw) {
    lua_pushlstring(L, reinterpret_cast<const char*>(md), len);
    return;
  }
  char hex[2 * EVP_MAX_MD_SIZE];
  hex_encode({reinterpret_cast<const char*>(md), len}, hex);
  lua_pushlstring(L, hex, 2 * len);
}

struct Digest {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  bool ok = false;
};

// A large string is hashed on the fs worker pool while the task waits (a 100 MiB digest takes
// a few hundred ms, which would stop every other task). The string is anchored by a registry
// ref until the job is done, even if the task gives up meanwhile (cancel).
int hash_off_loop(lua_State* L, const EVP_MD* md, std::string_view data, bool raw, const char* fname) {
  return suspend(L, fname, kForever, [&](const OpPtr& op) {
    lua_pushvalue(L, 1);
    int ref = luaL_ref(L, LUA_REGISTRYINDEX);
    auto& io = op->engine().io();
    auto guard = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(io.get_executor());
    asio::post(fs_workers(), [op, guard, &io, md, p = data.data(), n = data.size(), raw, ref, fname] {
      auto d = std::make_shared<Digest>();
      d->ok = EVP_Digest(p, n, d->out, &d->len, md, nullptr) == 1;
      asio::post(io, [op, guard, d, raw, ref, fname] {
        Engine& e = op->engine();
        if (!e.closing()) luaL_unref(e.L(), LUA_REGISTRYINDEX, ref);
        if (!op->active()) return;
        if (!d->ok) return op->fail("EIO", std::string(fname) + " failed");
        op->resume([d, raw](lua_State* L) { push_digest(L, d->out, d->len, raw); });
      });
    });
  });
}

template <Algo A>
int l_hash(lua_State* L) {
  std::string_view data = check_bytes(L, 1);
  bool raw = opt_raw(L, 2, kHashFuncs[A]);
  const EVP_MD* md = digest(L, A);
  // Strings only: a buffer may be changed (grown, moved) by another task while it is hashed.
  if (data.size() >= kOffloadBytes && lua_type(L, 1) == LUA_TSTRING && lua_isyieldable(L))
    return hash_off_loop(L, md, data, raw, kHashFuncs[A]);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!EVP_Digest(data.data(), data.size(), out, &len, md, nullptr))
    raisef(L, "EIO", "%s failed: %s", kHashFuncs[A], push_openssl_error(L));
  push_digest(L, out, len, raw);
  return 1;
}

// crypto.hmac(algo, key, data[, {raw}])
int l_hmac(lua_State* L) {
  std::string_view name = check_sv(L, 1);
  std::string_view key = check_bytes(L, 2);
  std::string_view data = check_bytes(L, 3);
  bool raw = opt_raw(L, 4, "crypto.hmac");
  int algo = -1;
  for (int a = 0; a < kAlgoCount && algo < 0; ++a) {
    std::string_view want = kAlgoNames[a];
    if (name.size() != want.size()) continue;
    bool same = true;
    for (size_t i = 0; i < want.size(); ++i)
      same = same && std::tolower(static_cast<unsigned char>(name[i])) == want[i];
    if (same) algo = a;
  }
  if (algo < 0) {
    lua_pushfstring(L, "unsupported algorithm '%s' (expected sha256, sha1, sha512 or md5)", lua_tostring(L, 1));
    value_error(L, 1, lua_tostring(L, -1));
  }
  check_value(L, key.size() <= INT_MAX, 2, "key too long");
  const EVP_MD* md = digest(L, static_cast<Algo>(algo));
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (!HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &len))
    raisef(L, "EIO", "crypto.hmac failed: %s", push_openssl_error(L));
  push_digest(L, out, len, raw);
  return 1;
}

void fill_random(lua_State* L, void* p, size_t n, const char* fname) {
  if (n && RAND_bytes(static_cast<unsigned char*>(p), static_cast<int>(n)) != 1)
    raisef(L, "EIO", "%s: the random generator failed: %s", fname, push_openssl_error(L));
}

// crypto.random_bytes(n)
int l_random_bytes(lua_State* L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  check_value(L, n >= 0 && n <= kMaxRandomBytes, 1, "size must be 0..1073741824");
  luaL_Buffer b;
  char* p = luaL_buffinitsize(L, &b, static_cast<size_t>(n));
  fill_random(L, p, static_cast<size_t>(n), "crypto.random_bytes");
  luaL_pushresultsize(&b, static_cast<size_t>(n));
  return 1;
}

// crypto.uuid(): a random (version 4, RFC 9562) UUID in lower-case 8-4-4-4-12 form.
int l_uuid(lua_State* L) {
  unsigned char u[16];
  fill_random(L, u, sizeof u, "crypto.uuid");
  u[6] = (u[6] & 0x0F) | 0x40;  // version 4
  u[8] = (u[8] & 0x3F) | 0x80;  // variant 10xx (RFC)
  char text[36];
  char* o = text;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
    hex_encode({reinterpret_cast<const char*>(u + i), 1}, o);
    o += 2;
  }
  lua_pushlstring(L, text, sizeof text);
  return 1;
}

template <bool Url>
int l_base64_encode(lua_State* L) {
  std::string_view in = check_bytes(L, 1);
  check_value(L, in.size() <= (SIZE_MAX / 4) * 3 - 3, 1, "data too large");
  size_t n = base64_encoded_size(in.size(), Url);
  luaL_Buffer b;
  char* p = luaL_buffinitsize(L, &b, n);
  base64_encode(in, p, Url);
  luaL_pushresultsize(&b, n);
  return 1;
}

template <bool Url>
int l_base64_decode(lua_State* L) {
  const char* fname = Url ? "crypto.base64url_decode" : "crypto.base64_decode";
  std::string_view in = check_bytes(L, 1);
  luaL_Buffer b;
  char* p = luaL_buffinitsize(L, &b, base64_decoded_max(in.size()));
  DecodeResult r = base64_decode(in, p, Url);
  if (r.error) raise_decode_error(L, fname, Url ? "base64url" : "base64", in, r);
  luaL_pushresultsize(&b, r.size);
  return 1;
}

int l_hex_encode(lua_State* L) {
  std::string_view in = check_bytes(L, 1);
  check_value(L, in.size() <= SIZE_MAX / 2, 1, "data too large");
  luaL_Buffer b;
  char* p = luaL_buffinitsize(L, &b, 2 * in.size());
  hex_encode(in, p);
  luaL_pushresultsize(&b, 2 * in.size());
  return 1;
}

int l_hex_decode(lua_State* L) {
  std::string_view in = check_bytes(L, 1);
  luaL_Buffer b;
  char* p = luaL_buffinitsize(L, &b, in.size() / 2);
  DecodeResult r = hex_decode(in, p);
  if (r.error) raise_decode_error(L, "crypto.hex_decode", "hex", in, r);
  luaL_pushresultsize(&b, r.size);
  return 1;
}

// crypto.constant_time_compare(a, b): equal contents, in time that depends only on the length.
int l_constant_time_compare(lua_State* L) {
  std::string_view a = check_bytes(L, 1);
  std::string_view b = check_bytes(L, 2);
  lua_pushboolean(L, a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0);
  return 1;
}

}  // namespace

int open_crypto(lua_State* L) {
  static const luaL_Reg funcs[] = {
      {"sha256", l_hash<kSha256>},
      {"sha1", l_hash<kSha1>},
      {"md5", l_hash<kMd5>},
      {"sha512", l_hash<kSha512>},
      {"hmac", l_hmac},
      {"random_bytes", l_random_bytes},
      {"uuid", l_uuid},
      {"base64_encode", l_base64_encode<false>},
      {"base64_decode", l_base64_decode<false>},
      {"base64url_encode", l_base64_encode<true>},
      {"base64url_decode", l_base64_decode<true>},
      {"hex_encode", l_hex_encode},
      {"hex_decode", l_hex_decode},
      {"constant_time_compare", l_constant_time_compare},
      {nullptr, nullptr},
  };
  luaL_newlib(L, funcs);
  return 1;
}

}  // namespace mw
