-- Tests of the buffer module (stdlib/buffer.cpp): every function and method, edge cases, bad
-- input, and every integer/float width and byte order against string.pack/unpack.
local test = require("test")
local buffer = require("buffer")

local function erange(fn, text)
  local err = test.raises(fn, "ERANGE")
  if text then test.matches(tostring(err), text) end
  return err
end
local function einval(fn, text)
  local err = test.raises(fn, "EINVAL")
  if text then test.matches(tostring(err), text) end
  return err
end

-- The fixed-width types: method suffix, string.pack format, range.
local TYPES = {
  { "UInt8", "I1", 0, 255 }, { "Int8", "i1", -128, 127 },
  { "UInt16", "I2", 0, 65535 }, { "Int16", "i2", -32768, 32767 },
  { "UInt32", "I4", 0, 4294967295 }, { "Int32", "i4", -2147483648, 2147483647 },
  { "UInt64", "I8" }, { "Int64", "i8", math.mininteger, math.maxinteger },
  { "Float", "f" }, { "Double", "d" },
}
-- Method name suffixes with their string.pack byte-order prefix (8-bit types have none).
local function orders(t)
  if t[2]:sub(2) == "1" then return { { "", "<" } } end
  return { { "LE", "<" }, { "BE", ">" } }
end
local function values(t)
  if t[1] == "Float" or t[1] == "Double" then
    return { 0.0, -0.0, 1.0, -1.5, 0.1, 1 / 3, 3.4028234663852886e38, 1.17549435e-38, 1.4e-45, 1e-300,
      1e300, 3.4028235677973366e38, -3.5e38, 123456789.123, math.huge, -math.huge, 2 ^ 53, math.pi }
  end
  local v = { 0, 1, 2, 100, 127 }
  if t[1] == "UInt64" then
    for _, x in ipairs({ -1, math.mininteger, math.maxinteger, 0x123456789abcdef0, -2 }) do v[#v + 1] = x end
  else
    local lo, hi = t[3], t[4]
    for _, x in ipairs({ lo, hi, lo + 1, hi - 1, hi // 2, lo // 2 }) do v[#v + 1] = x end
    if lo < 0 then v[#v + 1] = -1 end
  end
  return v
end

test("buffer is a global and require-able", function()
  test.eq(rawequal(buffer, _G.buffer), true)
end)

-- Constructors -----------------------------------------------------------------------------------

test("new: zero-filled, cursor at 1; size optional", function()
  local b = buffer.new(4)
  test.eq(b:len(), 4)
  test.eq(#b, 4)
  test.eq(b:toString(), "\0\0\0\0")
  test.eq(b:tell(), 1)
  test.eq(#buffer.new(), 0)
  test.eq(#buffer.new(0), 0)
  test.eq(buffer.new(0):toString(), "")
  test.eq(#buffer.new(100000), 100000)
  test.eq(buffer.new(3.0):len(), 3)
end)

test("new and alloc: bad sizes", function()
  for _, f in ipairs({ buffer.new, buffer.alloc }) do
    einval(function() f(-1) end, "size must be 0..2147483648")
    einval(function() f(math.mininteger) end)
    einval(function() f(math.maxinteger) end)
    einval(function() f(2 ^ 40) end)
    test.raises(function() f(1.5) end, "number has no integer representation")
    test.raises(function() f("x") end, "number expected")
    test.raises(function() f({}) end, "number expected")
  end
  test.raises(function() buffer.alloc() end, "number expected")
end)

test("alloc: filled with a byte", function()
  test.eq(buffer.alloc(3):toString(), "\0\0\0")
  test.eq(buffer.alloc(3, 0x41):toString(), "AAA")
  test.eq(buffer.alloc(2, 255):toString(), "\255\255")
  test.eq(buffer.alloc(0, 7):toString(), "")
  einval(function() buffer.alloc(2, 256) end, "byte must be 0..255")
  einval(function() buffer.alloc(2, -1) end)
  test.raises(function() buffer.alloc(2, "z") end, "number expected")
end)

test("from: strings (binary-safe), buffers (a copy), byte tables", function()
  local b = buffer.from("a\0b\255")
  test.eq(#b, 4)
  test.eq(b:toString(), "a\0b\255")
  test.eq(b:tell(), 1)
  test.eq(buffer.from(""):len(), 0)
  local c = buffer.from(b)
  test.eq(c:toString(), b:toString())
  c:set(1, 0x7a)
  test.eq(b:get(1), 0x61, "from(buffer) copies")
  test.eq(buffer.from({ 1, 2, 255, 0 }):toString(), "\1\2\255\0")
  test.eq(buffer.from({}):len(), 0)
  test.eq(buffer.from(12):toString(), "12")
  einval(function() buffer.from({ 1, 256 }) end, "entry 2 must be a byte 0..255")
  einval(function() buffer.from({ 1, "x" }) end, "entry 2")
  einval(function() buffer.from({ 1.5 }) end, "entry 1")
  test.raises(function() buffer.from() end, "string, buffer or table expected")
  test.raises(function() buffer.from(true) end, "string, buffer or table expected")
end)

test("fromHex and fromBase64", function()
  test.eq(buffer.fromHex("00ff7A"):toString(), "\0\255\122")
  test.eq(buffer.fromHex(""):len(), 0)
  test.eq(buffer.fromBase64("Zm9vYmFy"):toString(), "foobar")
  test.eq(buffer.fromBase64("Zm9vYg=="):toString(), "foob")
  test.eq(buffer.fromBase64("Zm9vYg"):toString(), "foob")
  test.eq(buffer.fromBase64(""):len(), 0)
  einval(function() buffer.fromHex("abc") end, "buffer.fromHex: invalid hex input: odd number of digits")
  einval(function() buffer.fromHex("zz") end, "unexpected character 'z' at position 1")
  einval(function() buffer.fromBase64("Zm9v!") end, "buffer.fromBase64: invalid base64 input: unexpected character '!' at position 5")
  einval(function() buffer.fromBase64("Zg=") end, "padding")
  test.raises(function() buffer.fromHex({}) end, "string or buffer expected")
  test.eq(buffer.fromHex(buffer.from("4142")):toString(), "AB")
end)

test("concat: buffers and strings in order", function()
  local c = buffer.concat(buffer.from("ab"), "c\0", buffer.new(1), buffer.from(""))
  test.eq(c:toString(), "abc\0\0")
  test.eq(c:tell(), 1)
  test.eq(buffer.concat():len(), 0)
  test.eq(buffer.concat("x"):toString(), "x")
  test.raises(function() buffer.concat(buffer.new(1), {}) end, "bad argument #2")
  test.raises(function() buffer.concat(nil) end, "string or buffer expected")
end)

test("isBuffer", function()
  test.eq(buffer.isBuffer(buffer.new()), true)
  test.eq(buffer.isBuffer("abc"), false)
  test.eq(buffer.isBuffer(nil), false)
  test.eq(buffer.isBuffer({}), false)
  test.eq(buffer.isBuffer(io.stdout), false)
  test.eq(buffer.isBuffer(), false)
end)

-- Fixed-width reads and writes against string.pack ---------------------------------------------

test("every width and byte order writes exactly what string.pack packs", function()
  for _, t in ipairs(TYPES) do
    for _, o in ipairs(orders(t)) do
      local fmt = o[2] .. t[2]
      local write = "write" .. t[1] .. o[1]
      for _, v in ipairs(values(t)) do
        local b = buffer.new()
        test.eq(b[write](b, v), b, write .. " returns the buffer")
        test.eq(b:toString(), string.pack(fmt, v), write .. "(" .. tostring(v) .. ")")
        test.eq(b:tell(), #string.pack(fmt, v) + 1)
      end
    end
  end
end)

test("every width and byte order reads what string.unpack unpacks", function()
  for _, t in ipairs(TYPES) do
    for _, o in ipairs(orders(t)) do
      local fmt = o[2] .. t[2]
      local read = "read" .. t[1] .. o[1]
      local packed = {}
      for _, v in ipairs(values(t)) do packed[#packed + 1] = string.pack(fmt, v) end
      local b = buffer.from(table.concat(packed))
      for i, p in ipairs(packed) do
        local got, want = b[read](b), string.unpack(fmt, p)
        test.eq(math.type(got), math.type(want), read .. " type")
        test.eq(got, want, read .. " value " .. i)
        if want == 0 then test.eq(1 / got, 1 / want, read .. " sign of zero") end
      end
      test.eq(b:tell(), #b + 1)
      erange(function() b[read](b) end, "buffer:" .. read .. ": need")
    end
  end
end)

test("random values round-trip through both byte orders", function()
  local rnd = math.random
  for _, t in ipairs(TYPES) do
    for _, o in ipairs(orders(t)) do
      local fmt = o[2] .. t[2]
      local b = buffer.new()
      local vals = {}
      for i = 1, 200 do
        local v
        if t[1] == "Double" then v = (rnd() - 0.5) * 2 ^ rnd(-60, 60)
        elseif t[1] == "Float" then v = string.unpack("f", string.pack("f", (rnd() - 0.5) * 2 ^ rnd(-60, 60)))
        elseif t[3] then v = rnd(t[3], t[4])
        else v = rnd(math.mininteger, math.maxinteger) end
        vals[i] = v
        b["write" .. t[1] .. o[1]](b, v)
      end
      local s = b:toString()
      b:reset()
      local pos = 1
      for i = 1, 200 do
        local want
        want, pos = string.unpack(fmt, s, pos)
        test.eq(want, vals[i])
        test.eq(b["read" .. t[1] .. o[1]](b), vals[i])
      end
    end
  end
end)

test("NaN and infinities", function()
  local b = buffer.new()
  b:writeDoubleLE(0 / 0):writeDoubleBE(math.huge):writeFloatLE(0 / 0):writeFloatBE(-math.huge)
  test.eq(b:toString(), string.pack("<d>d<f>f", 0 / 0, math.huge, 0 / 0, -math.huge))
  b:reset()
  local x = b:readDoubleLE()
  test.ok(x ~= x, "NaN")
  test.eq(b:readDoubleBE(), math.huge)
  x = b:readFloatLE()
  test.ok(x ~= x, "float NaN")
  test.eq(b:readFloatBE(), -math.huge)
  -- Doubles beyond the float range become FLT_MAX or infinity, as IEEE rounding says.
  b = buffer.new():writeFloatLE(1e39):writeFloatLE(-1e300):writeFloatLE(3.4028235e38)
  b:reset()
  test.eq(b:readFloatLE(), math.huge)
  test.eq(b:readFloatLE(), -math.huge)
  test.eq(b:readFloatLE(), 3.4028234663852886e38)
end)

test("min and max integers per width; 64-bit unsigned wraps", function()
  local b = buffer.new()
  b:writeInt64LE(math.mininteger):writeInt64BE(math.maxinteger)
  b:writeUInt64LE(-1):writeUInt64BE(math.mininteger)
  b:writeUInt32LE(4294967295):writeInt32BE(-2147483648):writeUInt16BE(65535):writeInt16LE(-32768)
  b:writeUInt8(255):writeInt8(-128)
  b:reset()
  test.eq(b:readInt64LE(), math.mininteger)
  test.eq(b:readInt64BE(), math.maxinteger)
  test.eq(b:readUInt64LE(), -1, "2^64-1 reads back as -1")
  test.eq(b:readUInt64BE(), math.mininteger, "2^63 reads back as math.mininteger")
  test.eq(b:readUInt32LE(), 4294967295)
  test.eq(b:readInt32BE(), -2147483648)
  test.eq(b:readUInt16BE(), 65535)
  test.eq(b:readInt16LE(), -32768)
  test.eq(b:readUInt8(), 255)
  test.eq(b:readInt8(), -128)
  test.eq(b:remaining(), 0)
  -- The same bytes read as the other signedness.
  b = buffer.from("\255\255\255\255\255\255\255\255")
  test.eq(b:readInt8(1), -1)
  test.eq(b:readUInt8(1), 255)
  test.eq(b:readInt16LE(1), -1)
  test.eq(b:readUInt16LE(1), 65535)
  test.eq(b:readInt32BE(1), -1)
  test.eq(b:readUInt32BE(1), 4294967295)
  test.eq(b:readUInt64BE(1), -1)
  test.eq(math.type(b:readUInt32LE(1)), "integer")
  test.eq(math.type(b:readFloatLE(1)), "float")
end)

test("integer writes out of range are EINVAL (no silent wrapping below 64 bits)", function()
  local b = buffer.new()
  einval(function() b:writeUInt8(256) end, "bad argument #1 to 'writeUInt8' %(value 256 is out of range for UInt8 %(0..255%)%)")
  einval(function() b:writeUInt8(-1) end, "out of range for UInt8")
  einval(function() b:writeInt8(128) end, "for Int8 %(%-128..127%)")
  einval(function() b:writeInt8(-129) end)
  einval(function() b:writeUInt16LE(65536) end, "UInt16")
  einval(function() b:writeUInt16BE(-1) end)
  einval(function() b:writeInt16BE(32768) end)
  einval(function() b:writeInt16LE(-32769) end)
  einval(function() b:writeUInt32LE(4294967296) end, "UInt32")
  einval(function() b:writeUInt32BE(-1) end)
  einval(function() b:writeInt32LE(2147483648) end, "Int32")
  einval(function() b:writeInt32BE(-2147483649) end)
  einval(function() b:writeUInt32LE(math.maxinteger) end)
  test.eq(#b, 0, "nothing was written")
  test.eq(b:tell(), 1)
  -- Integral floats and numeric strings are integers, as in string.pack.
  b:writeUInt16LE(7.0):writeUInt8("9")
  test.eq(b:toString(), "\7\0\9")
  test.raises(function() b:writeUInt8(1.5) end, "number has no integer representation")
  test.raises(function() b:writeInt64LE(2 ^ 63) end, "number has no integer representation")
  test.raises(function() b:writeInt32LE(0 / 0) end, "number has no integer representation")
  test.raises(function() b:writeUInt8() end, "number expected")
  test.raises(function() b:writeUInt8("x") end, "number expected")
  test.raises(function() b:writeDoubleLE("x") end, "number expected")
  test.raises(function() b:writeDoubleLE() end, "number expected")
  test.eq(#b, 3)
end)

-- Cursor -------------------------------------------------------------------------------------------

test("tell, seek, reset, remaining", function()
  local b = buffer.from("abcdef")
  test.eq(b:tell(), 1)
  test.eq(b:remaining(), 6)
  test.eq(b:seek(3), b)
  test.eq(b:tell(), 3)
  test.eq(b:readString(2), "cd")
  test.eq(b:tell(), 5)
  test.eq(b:remaining(), 2)
  b:seek(7)
  test.eq(b:tell(), 7, "the cursor may sit just past the end")
  test.eq(b:remaining(), 0)
  test.eq(b:reset(), b)
  test.eq(b:tell(), 1)
  test.eq(b:seek(2):readUInt8(), 0x62)
  erange(function() b:seek(8) end, "buffer:seek: position 8 is out of range 1..7")
  erange(function() b:seek(0) end, "position 0 is out of range")
  erange(function() b:seek(-1) end)
  erange(function() b:seek(math.mininteger) end)
  erange(function() b:seek(math.maxinteger) end)
  test.eq(b:tell(), 3, "a failed seek leaves the cursor")
  test.raises(function() b:seek() end, "number expected")
  test.raises(function() b:seek(1.5) end, "number has no integer representation")
  local e = buffer.new()
  e:seek(1)
  erange(function() e:seek(2) end, "out of range 1..1")
end)

test("reads past the end raise ERANGE and leave the cursor", function()
  local b = buffer.from("\1\2\3")
  erange(function() b:readUInt32LE() end, "buffer:readUInt32LE: need 4 bytes at position 1, only 3 left %(length 3%)")
  test.eq(b:tell(), 1)
  test.eq(b:readUInt16BE(), 0x0102)
  erange(function() b:readUInt16LE() end, "need 2 bytes at position 3, only 1 left")
  test.eq(b:readUInt8(), 3)
  erange(function() b:readUInt8() end, "need 1 byte at position 4, only 0 left")
  erange(function() b:readDoubleBE() end)
  erange(function() buffer.new():readInt8() end, "only 0 left %(length 0%)")
  -- Exactly at the end is fine.
  b = buffer.new(8)
  test.eq(b:readDoubleLE(), 0.0)
  test.eq(b:tell(), 9)
  -- Under pcall the method is still named.
  local ok, err = pcall(b.readInt64BE, b)
  test.eq(ok, false)
  test.eq(err.code, "ERANGE")
  test.matches(tostring(err), "buffer:readInt64BE: need 8 bytes at position 9")
end)

test("writes grow the buffer at the end and overwrite in the middle", function()
  local b = buffer.new()
  for i = 1, 1000 do b:writeUInt32BE(i) end
  test.eq(#b, 4000)
  test.eq(b:tell(), 4001)
  test.ok(b:capacity() >= 4000)
  b:seek(5):writeUInt32BE(0xAABBCCDD)
  test.eq(#b, 4000, "an overwrite does not grow")
  test.eq(b:tell(), 9)
  b:seek(3999):writeUInt32LE(0x11223344)
  test.eq(#b, 4002, "a write across the end grows by what passes it")
  b:reset()
  test.eq(b:readUInt32BE(), 1)
  test.eq(b:readUInt32BE(), 0xAABBCCDD)
  test.eq(b:readUInt32BE(), 3)
  test.eq(b:toString():sub(3999), "\68\51\34\17")
  -- Growing a sized buffer, and from empty with every type.
  b = buffer.new(2)
  b:seek(3):writeDoubleBE(1.25)
  test.eq(#b, 10)
  test.eq(b:toString(), "\0\0" .. string.pack(">d", 1.25))
end)

test("reads and writes at an explicit position leave the cursor", function()
  local b = buffer.from("\0\1\2\3\4\5\6\7")
  b:seek(2)
  test.eq(b:readUInt16BE(1), 0x0001)
  test.eq(b:readUInt32LE(5), 0x07060504)
  test.eq(b:readUInt8(8), 7)
  test.eq(b:tell(), 2)
  erange(function() b:readUInt16LE(8) end, "need 2 bytes at position 8, only 1 left")
  erange(function() b:readUInt8(9) end, "need 1 byte at position 9, only 0 left")
  erange(function() b:readUInt8(0) end, "position 0 is out of range 1..9")
  erange(function() b:readUInt8(10) end, "position 10 is out of range")
  erange(function() b:readUInt8(-1) end)
  test.raises(function() b:readUInt8("x") end, "number expected")
  b:writeUInt16BE(0xFFEE, 1)
  test.eq(b:tell(), 2)
  test.eq(b:get(1), 0xFF)
  test.eq(b:get(2), 0xEE)
  b:writeUInt32LE(1, 9)
  test.eq(#b, 12, "a positioned write at the end grows")
  test.eq(b:tell(), 2)
  erange(function() b:writeUInt8(1, 14) end, "buffer:writeUInt8: position 14 is out of range 1..13")
  erange(function() b:writeUInt8(1, 0) end)
  -- Patching a length prefix after writing the payload.
  local msg = buffer.new()
  msg:writeUInt16BE(0):writeString("hello")
  msg:writeUInt16BE(#msg - 2, 1)
  test.eq(msg:toString(), "\0\5hello")
end)

-- Bytes -------------------------------------------------------------------------------------

test("get and set", function()
  local b = buffer.from("abc")
  test.eq(b:get(1), 97)
  test.eq(b:get(3), 99)
  test.eq(b:set(2, 0), b)
  test.eq(b:toString(), "a\0c")
  b:set(3, 255)
  test.eq(b:get(3), 255)
  test.eq(b:tell(), 1, "get/set leave the cursor")
  erange(function() b:get(0) end, "buffer:get: index 0 is out of range 1..3")
  erange(function() b:get(4) end, "index 4")
  erange(function() b:set(4, 1) end, "buffer:set: index 4 is out of range 1..3")
  erange(function() b:get(-1) end)
  erange(function() buffer.new():get(1) end, "the buffer is empty")
  einval(function() b:set(1, 256) end, "byte must be 0..255")
  einval(function() b:set(1, -1) end)
  test.raises(function() b:set(1) end, "number expected")
  test.raises(function() b:get() end, "number expected")
  test.raises(function() b:get(1.5) end, "no integer representation")
end)

test("readString and writeString", function()
  local b = buffer.new()
  test.eq(b:writeString("he\0llo"), 6)
  test.eq(b:writeString(""), 0)
  test.eq(b:writeString(buffer.from("!!")), 2)
  test.eq(b:toString(), "he\0llo!!")
  test.eq(b:tell(), 9)
  b:reset()
  test.eq(b:readString(2), "he")
  test.eq(b:readString(0), "")
  test.eq(b:readString(), "\0llo!!", "default: everything that remains")
  test.eq(b:readString(), "")
  test.eq(b:readString(0), "")
  erange(function() b:readString(1) end, "buffer:readString: need 1 byte at position 9")
  b:reset()
  erange(function() b:readString(9) end, "need 9 bytes at position 1, only 8 left")
  erange(function() b:readString(math.maxinteger) end)
  test.eq(b:tell(), 1)
  einval(function() b:readString(-1) end, "length must not be negative")
  test.eq(b:readString(3, 2), "e\0l", "at a position")
  test.eq(b:readString(nil, 7), "!!")
  test.eq(b:tell(), 1)
  erange(function() b:readString(1, 10) end)
  test.eq(b:writeString("XY", 8), 2)
  test.eq(b:toString(), "he\0llo!XY")
  test.eq(b:tell(), 1)
  test.raises(function() b:writeString() end, "string or buffer expected")
  test.raises(function() b:writeString({}) end, "string or buffer expected")
  test.eq(b:writeString(42), 2)
end)

test("writeString of a buffer into itself, with and without growth", function()
  local b = buffer.from("abc")
  b:seek(4)
  b:writeString(b)
  test.eq(b:toString(), "abcabc")
  for _ = 1, 10 do b:writeString(b) end
  test.eq(#b, 6 * 1024)
  test.eq(b:toString(), ("abc"):rep(2048))
  local c = buffer.from("abcdef")
  c:writeString(c, 3)
  test.eq(c:toString(), "ababcdef")
end)

test("slice copies a range (inclusive, 1-based)", function()
  local b = buffer.from("abcdef")
  b:seek(4)
  local s = b:slice(2, 4)
  test.eq(s:toString(), "bcd")
  test.eq(s:tell(), 1)
  s:set(1, 0x7a)
  test.eq(b:toString(), "abcdef", "a copy, not a view")
  test.eq(b:slice():toString(), "abcdef")
  test.eq(b:slice(3):toString(), "cdef")
  test.eq(b:slice(7):toString(), "")
  test.eq(b:slice(4, 3):toString(), "", "an empty range")
  test.eq(b:slice(1, 6):toString(), "abcdef")
  test.eq(buffer.new():slice():len(), 0)
  erange(function() b:slice(0) end, "buffer:slice: range 0..6 is outside the buffer %(length 6%)")
  erange(function() b:slice(8) end)
  erange(function() b:slice(2, 7) end, "range 2..7")
  erange(function() b:slice(4, 2) end)
  erange(function() b:slice(-1) end)
  test.raises(function() b:slice("x") end, "number expected")
end)

test("copy into another buffer, growing it; overlapping copies", function()
  local src = buffer.from("abcdef")
  local dst = buffer.from("123")
  test.eq(src:copy(dst), 6)
  test.eq(dst:toString(), "abcdef", "overwrites from 1 and grows")
  dst = buffer.from("123")
  test.eq(src:copy(dst, 4), 6)
  test.eq(dst:toString(), "123abcdef", "appends at #dst + 1")
  dst = buffer.from("12345")
  test.eq(src:copy(dst, 2, 3, 4), 2)
  test.eq(dst:toString(), "1cd45")
  test.eq(src:copy(dst, 1, 4, 3), 0)
  test.eq(dst:tell(), 1)
  erange(function() src:copy(dst, 7) end, "buffer:copy: target position 7 is out of range 1..6")
  erange(function() src:copy(dst, 0) end)
  erange(function() src:copy(dst, 1, 0) end, "range 0..6")
  erange(function() src:copy(dst, 1, 2, 9) end)
  test.raises(function() src:copy("abc") end, "buffer expected")
  test.raises(function() src:copy() end)
  -- Overlap within one buffer, both directions, and growth of the buffer itself.
  local b = buffer.from("abcdef")
  b:copy(b, 3, 1, 4)
  test.eq(b:toString(), "ababcd")
  b = buffer.from("abcdef")
  b:copy(b, 1, 3)
  test.eq(b:toString(), "cdefef")
  b = buffer.from("abc")
  b:copy(b, 4)
  test.eq(b:toString(), "abcabc")
end)

test("fill and clear", function()
  local b = buffer.from("abcdef")
  test.eq(b:fill(0x2e), b)
  test.eq(b:toString(), "......")
  b:fill(0x41, 2, 3)
  test.eq(b:toString(), ".AA...")
  b:fill(0x42, 5)
  test.eq(b:toString(), ".AA.BB")
  b:fill(0x43, 3, 2)
  test.eq(b:toString(), ".AA.BB", "empty range")
  einval(function() b:fill(256) end, "byte must be 0..255")
  einval(function() b:fill(-1) end)
  erange(function() b:fill(0, 0) end, "buffer:fill: range")
  erange(function() b:fill(0, 1, 7) end)
  test.raises(function() b:fill() end, "number expected")
  test.raises(function() b:fill("a") end, "number expected")
  buffer.new():fill(1)
  b:seek(4)
  test.eq(b:clear(), b)
  test.eq(b:toString(), "\0\0\0\0\0\0", "zeroed, length kept")
  test.eq(b:tell(), 1, "cursor back at 1")
  test.eq(buffer.new():clear():len(), 0)
end)

-- Conversions and metamethods ------------------------------------------------------------------

test("toString, bytes, toHex, toBase64", function()
  local b = buffer.from("\0\1\254\255foo")
  test.eq(b:toString(), "\0\1\254\255foo")
  test.eq(b:bytes(), "\0\1\254\255foo")
  test.eq(b:toHex(), "0001feff666f6f")
  test.eq(b:toBase64(), "AAH+/2Zvbw==")
  test.eq(buffer.fromBase64(b:toBase64()), b)
  test.eq(buffer.fromHex(b:toHex()), b)
  local e = buffer.new()
  test.eq(e:toString(), "")
  test.eq(e:toHex(), "")
  test.eq(e:toBase64(), "")
  test.eq(buffer.from("foobar"):toBase64(), "Zm9vYmFy")
  test.eq(buffer.from("fo"):toBase64(), "Zm8=")
  b:seek(3)
  test.eq(b:toString(), "\0\1\254\255foo", "the whole buffer, whatever the cursor")
end)

test("len, #, capacity, tostring", function()
  local b = buffer.from("abc")
  test.eq(b:len(), 3)
  test.eq(#b, 3)
  test.ok(b:capacity() >= 3)
  test.eq(tostring(b), "Buffer(3 bytes)")
  test.eq(tostring(buffer.new()), "Buffer(0 bytes)")
end)

test("== compares contents, not cursors or identity", function()
  local a, b = buffer.from("abc"), buffer.from("abc")
  b:seek(3)
  test.eq(a == b, true)
  test.eq(a ~= b, false)
  test.eq(a == buffer.from("abd"), false)
  test.eq(a == buffer.from("ab"), false)
  test.eq(buffer.new() == buffer.new(), true)
  test.eq(buffer.new(1) == buffer.new(), false)
  test.eq(a == "abc", false, "never equal to a string")
  test.eq(a == io.stdout, false)
end)

test(".. makes a new buffer from buffers, strings and numbers", function()
  local a = buffer.from("ab")
  local c = a .. "cd"
  test.eq(buffer.isBuffer(c), true)
  test.eq(c:toString(), "abcd")
  test.eq(("x\0" .. a):toString(), "x\0ab")
  test.eq((a .. a):toString(), "abab")
  test.eq((a .. 1):toString(), "ab1")
  test.eq((1 .. a):toString(), "1ab")
  test.eq(("" .. buffer.new()):len(), 0)
  test.eq(a:toString(), "ab", "operands unchanged")
  test.raises(function() return a .. {} end)
  test.raises(function() return true .. a end)
end)

-- Wrong self, and a sweep ---------------------------------------------------------------------

test("methods called on something else are argument errors", function()
  local b = buffer.new(4)
  for _, name in ipairs({ "readUInt8", "writeUInt8", "readInt32LE", "writeDoubleBE", "tell", "seek", "len",
                          "get", "set", "slice", "copy", "fill", "clear", "toString", "toHex", "toBase64",
                          "readString", "writeString", "reset", "remaining", "capacity", "bytes" }) do
    for _, bad in ipairs({ "str", {}, 1, io.stdout }) do
      local ok, err = pcall(b[name], bad, 1, 1)
      test.eq(ok, false, name)
      test.eq(type(err), "string", name)
      test.matches(err, "buffer expected", name)
    end
  end
end)

test("every function and method survives every kind of bad argument", function()
  local BAD = { nil, false, true, -1, 0, 1.5, 1e308, -math.huge, 0 / 0, math.maxinteger, math.mininteger, "",
    ("x"):rep(70000), "99999", {}, function() end, coroutine.create(function() end) }
  local function check(label, ok, err)
    if not ok then
      test.ok(type(err) == "string" or (type(err) == "table" and (err.code == "EINVAL" or err.code == "ERANGE")),
        label .. ": " .. tostring(err))
    end
  end
  for name, fn in pairs(buffer) do
    for pos = 1, 3 do
      for i = 1, 17 do
        local args = { 4, 1, 1 }
        args[pos] = BAD[i]
        check(name, pcall(fn, table.unpack(args, 1, 3)))
      end
    end
  end
  local methods = getmetatable(buffer.new()).__index
  for name, fn in pairs(methods) do
    for pos = 1, 4 do
      for i = 1, 17 do
        local args = { 1, 1, 1, 1 }
        args[pos] = BAD[i]
        local b = buffer.from("abcdefgh")
        check(name, pcall(fn, b, table.unpack(args, 1, 4)))
      end
    end
  end
end)

test("a buffer is usable as a binary protocol frame", function()
  -- A length-prefixed record: u8 type, u16 BE length, payload, f64 LE timestamp.
  local out = buffer.new()
  out:writeUInt8(2):writeUInt16BE(5)
  test.eq(out:writeString("hello"), 5, "writeString returns the byte count (CopperMoon), not the buffer")
  out:writeDoubleLE(1.5)
  test.eq(out:toString(), string.pack(">I1s2<d", 2, "hello", 1.5))
  local inb = buffer.from(out:toString())
  test.eq(inb:readUInt8(), 2)
  local n = inb:readUInt16BE()
  test.eq(inb:readString(n), "hello")
  test.eq(inb:readDoubleLE(), 1.5)
  test.eq(inb:remaining(), 0)
end)

test("net calls that take strings take buffers: tcp write, udp send, ws send and broadcast, http bodies", function()
  local s = net.tcp.listen(0)
  local got = task.spawn(function() local c = s:accept(); local d = c:read_all(); c:close(); return d end)
  local c = net.tcp.connect("127.0.0.1", s.port)
  local b = buffer.from("hel")
  c:write(b)
  b:writeString("XYZ", 1)  -- changing the buffer afterwards changes nothing already written
  c:write_all(buffer.from("lo"))
  c:close()
  test.eq(got:join(5), "hello")
  test.raises(function() c:write({}) end)
  s:close()

  local u1, u2 = net.udp.bind(0), net.udp.bind(0)
  test.eq(u1:send(buffer.from("dgram"), "127.0.0.1", u2.port), 5)
  test.eq((u2:recv()), "dgram")
  u1:close()
  u2:close()

  local srv = net.ws.listen(0)
  local peer = task.spawn(function()
    local w = srv:accept()
    local a, b2 = w:recv(), w:recv()
    w:close()
    return a.data .. "|" .. a.type .. "|" .. b2.data
  end)
  local ws = net.ws.connect("ws://127.0.0.1:" .. srv.port .. "/")
  ws:send(buffer.from("\0\1\2"), "binary")
  task.sleep(0.05)
  test.eq(srv:broadcast(buffer.from("all")) >= 0, true)
  ws:send(buffer.from("text"))
  test.eq(peer:join(5), "\0\1\2|binary|text")
  pcall(ws.close, ws)
  srv:close()

  local hs = net.http.listen(0, function(req) return req:body() end)
  test.eq(http.post("http://127.0.0.1:" .. hs.port .. "/", { body = buffer.from("bodybuf") }).body, "bodybuf")
  test.eq(http.request({ url = "http://127.0.0.1:" .. hs.port .. "/", method = "PUT", body = buffer.from("put") }).body, "put")
  hs:close()
end)
