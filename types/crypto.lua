---@meta crypto
-- moonwire `crypto`: digests, HMAC, random bytes, UUIDs, base64/hex (OpenSSL). docs/crypto.md.
-- Errors: Lua's argument error for a wrong type; `EINVAL` for an unknown algorithm or option,
-- a `random_bytes` size out of range, malformed base64/hex; `EIO` if OpenSSL fails.

---@class crypto
crypto = {}

-- options: crypto.cpp:kKnown
---Options of the digests and `crypto.hmac`.
---@class crypto.DigestOptions
---@field raw? boolean return the digest bytes instead of lower-case hex (default false)

---SHA-256: 64 hex digits (or the raw bytes with `raw = true`).
---@param data string|buffer.Buffer
---@param opts? crypto.DigestOptions
---@return string
function crypto.sha256(data, opts) end

---SHA-1: 40 hex digits (or the raw bytes with `raw = true`).
---@param data string|buffer.Buffer
---@param opts? crypto.DigestOptions
---@return string
function crypto.sha1(data, opts) end

---MD5: 32 hex digits (or the raw bytes with `raw = true`).
---@param data string|buffer.Buffer
---@param opts? crypto.DigestOptions
---@return string
function crypto.md5(data, opts) end

---SHA-512: 128 hex digits (or the raw bytes with `raw = true`).
---@param data string|buffer.Buffer
---@param opts? crypto.DigestOptions
---@return string
function crypto.sha512(data, opts) end

---HMAC (RFC 2104) of `data` under `key`, hex. `algo`: `"sha256"`, `"sha1"`, `"sha512"` or
---`"md5"` (any case; others `EINVAL`).
---@param algo "sha256"|"sha1"|"sha512"|"md5"|string
---@param key string|buffer.Buffer
---@param data string|buffer.Buffer
---@param opts? crypto.DigestOptions
---@return string
function crypto.hmac(algo, key, data, opts) end

---`n` (0..1 GiB) random bytes from OpenSSL's CSPRNG, as a string.
---@param n integer
---@return string
function crypto.random_bytes(n) end

---A random (version 4) UUID, `"xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx"`.
---@return string
function crypto.uuid() end

---Standard base64 (RFC 4648 section 4), padded.
---@param data string|buffer.Buffer
---@return string
function crypto.base64_encode(data) end

---Decodes standard base64 (padding optional; `EINVAL` for anything else).
---@param text string
---@return string
function crypto.base64_decode(text) end

---URL-safe base64 (RFC 4648 section 5), unpadded.
---@param data string|buffer.Buffer
---@return string
function crypto.base64url_encode(data) end

---Decodes URL-safe base64.
---@param text string
---@return string
function crypto.base64url_decode(text) end

---Hex, two lower-case digits per byte.
---@param data string|buffer.Buffer
---@return string
function crypto.hex_encode(data) end

---Decodes hex (an even number of digits, either case).
---@param text string
---@return string
function crypto.hex_decode(text) end

---`true` if `a` and `b` hold the same bytes, in time independent of where they differ.
---@param a string|buffer.Buffer
---@param b string|buffer.Buffer
---@return boolean
function crypto.constant_time_compare(a, b) end

return crypto
