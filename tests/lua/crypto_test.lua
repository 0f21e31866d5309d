-- Tests of the crypto module (stdlib/crypto.cpp): known-answer tests from the standards for
-- every digest, HMAC and encoding; uuid and random_bytes; binary safety; bad input.
local test = require("test")
local crypto = require("crypto")

local function rep(byte, n) return string.char(byte):rep(n) end
local function unhex(h) return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end)) end

-- Digests ----------------------------------------------------------------------------------------

test("crypto is a global and require-able", function()
  test.eq(rawequal(crypto, _G.crypto), true)
end)

test("sha256: FIPS 180-2 vectors and empty input", function()
  test.eq(crypto.sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  test.eq(crypto.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  test.eq(crypto.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  test.eq(crypto.sha256(("a"):rep(1000000)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
end)

test("sha1: FIPS 180-2 vectors and empty input", function()
  test.eq(crypto.sha1(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
  test.eq(crypto.sha1("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
  test.eq(crypto.sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
end)

test("md5: RFC 1321 test suite", function()
  test.eq(crypto.md5(""), "d41d8cd98f00b204e9800998ecf8427e")
  test.eq(crypto.md5("a"), "0cc175b9c0f1b6a831c399e269772661")
  test.eq(crypto.md5("abc"), "900150983cd24fb0d6963f7d28e17f72")
  test.eq(crypto.md5("message digest"), "f96b697d7cb7938d525a2f31aaf161d0")
  test.eq(crypto.md5("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b")
  test.eq(crypto.md5("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
    "57edf4a22be3c955ac49da2e2107b67a")
end)

test("sha512: FIPS 180-2 vectors and empty input", function()
  test.eq(crypto.sha512(""), "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
    .. "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
  test.eq(crypto.sha512("abc"), "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    .. "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
end)

test("digests are binary-safe (embedded NULs, high bytes)", function()
  test.ne(crypto.sha256("a\0b"), crypto.sha256("a"))
  test.ne(crypto.sha256("a\0b"), crypto.sha256("a\0c"))
  test.eq(crypto.md5("\0"), "93b885adfe0da089cdf634904fd59f71")
  test.eq(crypto.sha1("\0\0\0"), "29e2dcfbb16f63bb0254df7585a15bb6fb5e927d")
  local all = {}
  for i = 0, 255 do all[#all + 1] = string.char(i) end
  test.eq(crypto.sha256(table.concat(all)), "40aff2e9d2d8922e47afd4648e6967497158785fbd1da870e7110266bf944880")
end)

test("{raw = true} returns the digest bytes", function()
  test.eq(crypto.sha256("abc", { raw = true }), unhex(crypto.sha256("abc")))
  test.eq(#crypto.sha256("", { raw = true }), 32)
  test.eq(#crypto.sha1("", { raw = true }), 20)
  test.eq(#crypto.md5("", { raw = true }), 16)
  test.eq(#crypto.sha512("", { raw = true }), 64)
  test.eq(crypto.sha1("abc", { raw = false }), "a9993e364706816aba3e25717850c26c9cd0d89d")
  test.eq(crypto.hmac("sha256", "Jefe", "what do ya want for nothing?", { raw = true }),
    unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
end)

test("numbers are hashed as their string form, as Lua coerces them", function()
  test.eq(crypto.sha256(123), crypto.sha256("123"))
end)

-- HMAC -------------------------------------------------------------------------------------------

test("hmac sha256 and sha512: RFC 4231 test cases", function()
  local cases = {
    { rep(0x0b, 20), "Hi There",
      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
      .. "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
    { "Jefe", "what do ya want for nothing?",
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      .. "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
    { rep(0xaa, 20), rep(0xdd, 50),
      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
      "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
      .. "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
    { unhex("0102030405060708090a0b0c0d0e0f10111213141516171819"), rep(0xcd, 50),
      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
      "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
      .. "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
    { rep(0xaa, 131), "Test Using Larger Than Block-Size Key - Hash Key First",
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
      .. "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
    { rep(0xaa, 131), "This is a test using a larger than block-size key and a larger than block-size data. "
      .. "The key needs to be hashed before being used by the HMAC algorithm.",
      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
      "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
      .. "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
  }
  for i, c in ipairs(cases) do
    test.eq(crypto.hmac("sha256", c[1], c[2]), c[3], "case " .. i .. " sha256")
    test.eq(crypto.hmac("sha512", c[1], c[2]), c[4], "case " .. i .. " sha512")
  end
  -- Test case 5: output truncated to 128 bits.
  test.eq(crypto.hmac("sha256", rep(0x0c, 20), "Test With Truncation"):sub(1, 32), "a3b6167473100ee06e0c796c2955552b")
end)

test("hmac sha1 and md5: RFC 2202 test cases", function()
  test.eq(crypto.hmac("sha1", rep(0x0b, 20), "Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00")
  test.eq(crypto.hmac("sha1", "Jefe", "what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
  test.eq(crypto.hmac("sha1", rep(0xaa, 80), "Test Using Larger Than Block-Size Key - Hash Key First"),
    "aa4ae5e15272d00e95705637ce8a3b55ed402112")
  test.eq(crypto.hmac("md5", rep(0x0b, 16), "Hi There"), "9294727a3638bb1c13f48ef8158bfc9d")
  test.eq(crypto.hmac("md5", "Jefe", "what do ya want for nothing?"), "750c783e6ab0b503eaa86e310a5db738")
end)

test("hmac: algorithm names are case-insensitive; empty key and data work", function()
  test.eq(crypto.hmac("SHA256", "Jefe", "what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  test.eq(crypto.hmac("Sha1", "Jefe", "what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
  test.eq(crypto.hmac("sha256", "", ""), "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
  test.eq(crypto.hmac("md5", "", ""), "74e6f7298a9c2d168935f58c001bad88")
end)

test("hmac is binary-safe in key and data", function()
  test.ne(crypto.hmac("sha256", "k\0a", "d"), crypto.hmac("sha256", "k\0b", "d"))
  test.ne(crypto.hmac("sha256", "k", "d\0a"), crypto.hmac("sha256", "k", "d\0b"))
end)

test("hmac: unknown algorithm is EINVAL naming it", function()
  local err = test.raises(function() crypto.hmac("sha3", "k", "d") end, "EINVAL")
  test.matches(tostring(err), "unsupported algorithm 'sha3'")
  test.raises(function() crypto.hmac("", "k", "d") end, "EINVAL")
  test.raises(function() crypto.hmac("sha256\0", "k", "d") end, "EINVAL")
end)

-- random_bytes and uuid ------------------------------------------------------------------------

test("random_bytes: length, distinctness, every byte value shows up", function()
  test.eq(crypto.random_bytes(0), "")
  test.eq(#crypto.random_bytes(1), 1)
  test.eq(#crypto.random_bytes(32), 32)
  test.eq(#crypto.random_bytes(100000), 100000)
  test.ne(crypto.random_bytes(16), crypto.random_bytes(16))
  local seen, big = {}, crypto.random_bytes(20000)
  for i = 1, #big do seen[big:byte(i)] = true end
  local count = 0
  for _ in pairs(seen) do count = count + 1 end
  test.eq(count, 256, "all 256 byte values in 20000 random bytes")
  test.eq(#crypto.random_bytes(3.0), 3)
end)

test("random_bytes: bad sizes", function()
  test.raises(function() crypto.random_bytes(-1) end, "EINVAL")
  test.raises(function() crypto.random_bytes(math.mininteger) end, "EINVAL")
  test.raises(function() crypto.random_bytes(math.maxinteger) end, "EINVAL")
  test.raises(function() crypto.random_bytes(2 ^ 40) end, "EINVAL")
  test.raises(function() crypto.random_bytes(1.5) end, "number has no integer representation")
  test.raises(function() crypto.random_bytes() end, "number expected")
  test.raises(function() crypto.random_bytes("x") end, "number expected")
end)

test("uuid: v4 format, version and variant bits, unique", function()
  local seen = {}
  for _ = 1, 1000 do
    local u = crypto.uuid()
    test.matches(u, "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$")
    test.eq(u, u:lower())
    test.eq(seen[u], nil, "duplicate uuid")
    seen[u] = true
  end
end)

-- Encodings ------------------------------------------------------------------------------------

local RFC4648 = {
  { "", "", "", "" },
  { "f", "Zg==", "Zg", "66" },
  { "fo", "Zm8=", "Zm8", "666f" },
  { "foo", "Zm9v", "Zm9v", "666f6f" },
  { "foob", "Zm9vYg==", "Zm9vYg", "666f6f62" },
  { "fooba", "Zm9vYmE=", "Zm9vYmE", "666f6f6261" },
  { "foobar", "Zm9vYmFy", "Zm9vYmFy", "666f6f626172" },
}

test("base64, base64url and hex: RFC 4648 section 10 vectors", function()
  for _, v in ipairs(RFC4648) do
    test.eq(crypto.base64_encode(v[1]), v[2])
    test.eq(crypto.base64_decode(v[2]), v[1])
    test.eq(crypto.base64url_encode(v[1]), v[3])
    test.eq(crypto.base64url_decode(v[3]), v[1])
    test.eq(crypto.hex_encode(v[1]), v[4])
    test.eq(crypto.hex_decode(v[4]), v[1])
    test.eq(crypto.hex_decode(v[4]:upper()), v[1])
  end
end)

test("base64 vs base64url alphabets", function()
  local s = "\251\255\191\254"
  test.eq(crypto.base64_encode(s), "+/+//g==")
  test.eq(crypto.base64url_encode(s), "-_-__g")
  test.eq(crypto.base64_decode("+/+//g=="), s)
  test.eq(crypto.base64url_decode("-_-__g"), s)
  test.raises(function() crypto.base64_decode("-_-__g") end, "EINVAL")
  test.raises(function() crypto.base64url_decode("+/+//g") end, "EINVAL")
end)

test("padding is optional on decode, but must be right when present", function()
  test.eq(crypto.base64_decode("Zm9vYg"), "foob")
  test.eq(crypto.base64_decode("Zm9vYmE"), "fooba")
  test.eq(crypto.base64url_decode("Zm9vYg=="), "foob")
  test.eq(crypto.base64url_decode("Zm8="), "fo")
  for _, bad in ipairs({ "Zg=", "Zg===", "Z===", "=", "==", "====", "Zm9v=", "Zm=9v", "Zg==Zg==", "Zm8==" }) do
    local err = test.raises(function() crypto.base64_decode(bad) end, "EINVAL", bad)
    test.matches(tostring(err), "crypto.base64_decode: invalid base64 input", bad)
  end
end)

test("binary round trips of every byte value and every length", function()
  local all = {}
  for i = 0, 255 do all[#all + 1] = string.char(i) end
  all = table.concat(all)
  for n = 0, 70 do
    local s = all:sub(256 - n)
    test.eq(crypto.base64_decode(crypto.base64_encode(s)), s)
    test.eq(crypto.base64url_decode(crypto.base64url_encode(s)), s)
    test.eq(crypto.hex_decode(crypto.hex_encode(s)), s)
  end
  test.eq(crypto.base64_decode(crypto.base64_encode(all)), all)
  test.eq(crypto.hex_encode("\0\1\254\255"), "0001feff")
  test.eq(crypto.base64_encode("\0\0\0"), "AAAA")
  test.eq(crypto.base64_decode("AAAA"), "\0\0\0")
  local big = crypto.random_bytes(300001)
  test.eq(crypto.base64_decode(crypto.base64_encode(big)), big)
  test.eq(crypto.base64url_decode(crypto.base64url_encode(big)), big)
  test.eq(crypto.hex_decode(crypto.hex_encode(big)), big)
end)

test("bad base64 says what and where", function()
  local err = test.raises(function() crypto.base64_decode("Zm9v!mFy") end, "EINVAL")
  test.matches(tostring(err), "unexpected character '!' at position 5")
  err = test.raises(function() crypto.base64_decode("Zm9v\nYmFy") end, "EINVAL")
  test.matches(tostring(err), "unexpected byte 0x0A at position 5")
  err = test.raises(function() crypto.base64_decode("Zm9vY") end, "EINVAL")
  test.matches(tostring(err), "truncated: a single character in the last group at position 5")
  err = test.raises(function() crypto.base64_decode("Zm=v") end, "EINVAL")
  test.matches(tostring(err), "misplaced '=' padding at position 3")
  err = test.raises(function() crypto.base64url_decode("ab\0c") end, "EINVAL")
  test.matches(tostring(err), "crypto.base64url_decode: invalid base64url input: unexpected byte 0x00 at position 3")
  test.raises(function() crypto.base64_decode(" Zm9v") end, "EINVAL")
end)

test("bad hex says what and where", function()
  local err = test.raises(function() crypto.hex_decode("abc") end, "EINVAL")
  test.matches(tostring(err), "odd number of digits %(3%)")
  err = test.raises(function() crypto.hex_decode("00zz") end, "EINVAL")
  test.matches(tostring(err), "crypto.hex_decode: invalid hex input: unexpected character 'z' at position 3")
  err = test.raises(function() crypto.hex_decode("0g") end, "EINVAL")
  test.matches(tostring(err), "'g' at position 2")
  err = test.raises(function() crypto.hex_decode("0x") end, "EINVAL")
  test.matches(tostring(err), "position 2")
  test.raises(function() crypto.hex_decode("ab ") end, "EINVAL")
  test.raises(function() crypto.hex_decode("a\0") end, "EINVAL")
end)

-- constant_time_compare ------------------------------------------------------------------------

test("constant_time_compare", function()
  test.eq(crypto.constant_time_compare("", ""), true)
  test.eq(crypto.constant_time_compare("abc", "abc"), true)
  test.eq(crypto.constant_time_compare("abc", "abd"), false)
  test.eq(crypto.constant_time_compare("abc", "ab"), false)
  test.eq(crypto.constant_time_compare("", "a"), false)
  test.eq(crypto.constant_time_compare("a\0b", "a\0b"), true)
  test.eq(crypto.constant_time_compare("a\0b", "a\0c"), false)
  local mac = crypto.hmac("sha256", "k", "msg")
  test.eq(crypto.constant_time_compare(mac, crypto.hmac("sha256", "k", "msg")), true)
end)

-- Buffers are accepted wherever a string is --------------------------------------------------

test("buffer objects are accepted wherever a string is", function()
  local b = buffer.from("abc")
  test.eq(crypto.sha256(b), crypto.sha256("abc"))
  test.eq(crypto.sha1(b), crypto.sha1("abc"))
  test.eq(crypto.md5(b), crypto.md5("abc"))
  test.eq(crypto.sha512(b), crypto.sha512("abc"))
  test.eq(crypto.hmac("sha256", buffer.from("Jefe"), buffer.from("what do ya want for nothing?")),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
  test.eq(crypto.base64_encode(buffer.from("foobar")), "Zm9vYmFy")
  test.eq(crypto.base64url_encode(buffer.from("\251\255")), "-_8")
  test.eq(crypto.hex_encode(buffer.from("\0\255")), "00ff")
  test.eq(crypto.base64_decode(buffer.from("Zm9v")), "foo")
  test.eq(crypto.base64url_decode(buffer.from("Zm9v")), "foo")
  test.eq(crypto.hex_decode(buffer.from("666f")), "fo")
  test.eq(crypto.constant_time_compare(buffer.from("x\0y"), "x\0y"), true)
  test.eq(crypto.constant_time_compare(buffer.from("x"), buffer.from("y")), false)
  test.eq(crypto.sha256(buffer.new()), crypto.sha256(""))
  test.eq(crypto.hmac("sha256", buffer.new(), buffer.new()), crypto.hmac("sha256", "", ""))
end)

-- Wrong types and values ---------------------------------------------------------------------

test("wrong argument types are Lua argument errors naming the function", function()
  for _, name in ipairs({ "sha256", "sha1", "md5", "sha512", "base64_encode", "base64_decode",
                          "base64url_encode", "base64url_decode", "hex_encode", "hex_decode" }) do
    for _, bad in ipairs({ {}, true, function() end, io.stdout }) do
      local ok, err = pcall(crypto[name], bad)
      test.eq(ok, false)
      test.eq(type(err), "string")
      test.matches(err, "bad argument #1 to 'crypto%." .. name .. "' %(string or buffer expected")
    end
    test.raises(function() crypto[name]() end, "string or buffer expected, got no value")
  end
  test.raises(function() crypto.hmac(nil, "k", "d") end, "string expected")
  test.raises(function() crypto.hmac("sha256", nil, "d") end, "bad argument #2 to 'hmac'")
  test.raises(function() crypto.hmac("sha256", "k", {}) end, "bad argument #3 to 'hmac'")
  test.raises(function() crypto.constant_time_compare("a") end, "bad argument #2")
  test.raises(function() crypto.constant_time_compare({}, "a") end, "bad argument #1")
end)

test("digest options are checked", function()
  test.raises(function() crypto.sha256("x", { rwa = true }) end, "EINVAL")
  local err = test.raises(function() crypto.sha256("x", { rwa = true }) end)
  test.matches(tostring(err), "did you mean 'raw'")
  test.raises(function() crypto.sha256("x", { raw = "yes" }) end, "EINVAL")
  test.raises(function() crypto.hmac("sha1", "k", "d", { 1 }) end, "EINVAL")
  test.raises(function() crypto.md5("x", 5) end)
end)

test("every function survives every kind of bad argument", function()
  local BAD = { nil, false, true, -1, 0, 1.5, 1e308, -math.huge, 0 / 0, math.maxinteger, math.mininteger, "",
    ("x"):rep(70000), {}, { raw = 1 }, function() end, coroutine.create(function() end) }
  for name, fn in pairs(crypto) do
    for pos = 1, 4 do
      for i = 1, 17 do
        local args = { "sha256", "k", "d", nil }
        args[pos] = BAD[i]
        local ok, err = pcall(fn, table.unpack(args, 1, 4))
        if not ok then
          test.ok(type(err) == "string" or (type(err) == "table" and err.code == "EINVAL"),
            name .. " arg " .. pos .. ": " .. tostring(err))
        end
      end
    end
  end
end)

test("digests of large strings run off the loop: other tasks run meanwhile, same result as on the loop", function()
  local big = ("0123456789abcdef"):rep(2 * 65536 + 3)  -- 2 MiB + 48 bytes
  local turns = 0
  local spinner = task.spawn(function() while true do turns = turns + 1; task.yield() end end)
  for _, name in ipairs({ "md5", "sha1", "sha256", "sha512" }) do
    -- The digest may finish on the pool before the spinner's next turn is due (a loaded machine
    -- can pause the loop thread), so a few tries; on the loop no try could ever see a turn.
    local off, ran = nil, false
    for _ = 1, 20 do
      local before = turns
      off = crypto[name](big)
      if turns > before then ran = true break end
    end
    test.ok(ran, name .. ": no other task ran while the digest was computed")
    -- where Lua cannot yield (a gsub callback) the same digest is computed on the loop
    local on_loop
    ("x"):gsub("x", function() on_loop = crypto[name](big) end)
    test.eq(off, on_loop)
    test.eq(crypto[name](big, { raw = true }), crypto.hex_decode(off))
  end
  test.eq(crypto.sha256(buffer.from(big)), crypto.sha256(big))  -- buffers: hashed on the loop
  spinner:cancel()
  -- a task cancelled while its digest runs: the call ends with "cancelled", nothing breaks
  local t = task.spawn(function() return crypto.sha512(big .. "!") end)
  t:cancel()
  local ok, err = pcall(t.join, t)
  test.eq(ok, false)
  test.eq(err.code, "cancelled")
  test.eq(#crypto.sha256(big), 64)
end)
