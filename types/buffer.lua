---@meta buffer
-- moonwire `buffer` (CopperMoon's Buffer): mutable byte buffers with a cursor, typed reads and
-- writes. docs/buffer.md. Errors: Lua's argument error for a wrong type; `ERANGE` for a
-- position or range outside the buffer; `EINVAL` for a wrong value (negative size, byte
-- outside 0..255, integer out of range, malformed hex/base64); `ENOMEM` beyond 2 GiB.

---@class buffer
buffer = {}

-- metatable: moonwire.buffer
---A byte buffer. `#buf` is its length; `a == b` compares bytes; `a .. b` makes a new buffer;
---`tostring(buf)` is `"Buffer(N bytes)"`. Positions are 1-based.
---@class buffer.Buffer
---@operator len: integer
---@operator concat(buffer.Buffer|string|number): buffer.Buffer
local Buffer = {}

---A buffer of `size` zero bytes (default 0).
---@param size? integer
---@return buffer.Buffer
function buffer.new(size) end

---A buffer of `size` bytes, each `fill` (0..255, default 0).
---@param size integer
---@param fill? integer
---@return buffer.Buffer
function buffer.alloc(size, fill) end

---A buffer holding a copy of `data`: a string, another buffer, or a table of byte values.
---@param data string|buffer.Buffer|integer[]
---@return buffer.Buffer
function buffer.from(data) end

---The bytes of hex text (either case, even length).
---@param text string
---@return buffer.Buffer
function buffer.fromHex(text) end

---The bytes of standard base64 text (padding optional).
---@param text string
---@return buffer.Buffer
function buffer.fromBase64(text) end

---A new buffer with the bytes of every argument, in order.
---@param ... buffer.Buffer|string
---@return buffer.Buffer
function buffer.concat(...) end

---`true` if `v` is a buffer.
---@param v any
---@return boolean
function buffer.isBuffer(v) end

---The cursor, `1..#buf + 1`.
---@return integer
function Buffer:tell() end

---Moves the cursor to `pos` (`1..#buf + 1`, else `ERANGE`).
---@param pos integer
---@return buffer.Buffer
function Buffer:seek(pos) end

---The cursor back to 1.
---@return buffer.Buffer
function Buffer:reset() end

---The number of bytes from the cursor to the end.
---@return integer
function Buffer:remaining() end

---The byte at index `i` (`1..#buf`); the cursor does not move.
---@param i integer
---@return integer
function Buffer:get(i) end

---Sets the byte at `i` (`1..#buf`, never grows).
---@param i integer
---@param byte integer
---@return buffer.Buffer
function Buffer:set(i, byte) end

---`n` bytes as a string (default: all that remain), at the cursor (which moves) or at `pos`.
---@param n? integer
---@param pos? integer
---@return string
function Buffer:readString(n, pos) end

---Writes a string or buffer at the cursor or at `pos`, growing as needed; returns the number
---of bytes written.
---@param data string|buffer.Buffer
---@param pos? integer
---@return integer
function Buffer:writeString(data, pos) end

---A new buffer with a copy of bytes `first..last` (inclusive; defaults 1 and `#buf`).
---@param first? integer
---@param last? integer
---@return buffer.Buffer
function Buffer:slice(first, last) end

---Copies bytes `first..last` of `buf` into `target` at `target_start` (default 1), growing it
---as needed; returns the number of bytes copied.
---@param target buffer.Buffer
---@param target_start? integer
---@param first? integer
---@param last? integer
---@return integer
function Buffer:copy(target, target_start, first, last) end

---Sets bytes `first..last` (default: all) to `byte`.
---@param byte integer
---@param first? integer
---@param last? integer
---@return buffer.Buffer
function Buffer:fill(byte, first, last) end

---Sets every byte to 0 and the cursor to 1 (the length stays).
---@return buffer.Buffer
function Buffer:clear() end

---The whole content as a Lua string (whatever the cursor).
---@return string
function Buffer:toString() end

---The whole content as a Lua string (as `toString`).
---@return string
function Buffer:bytes() end

---Lower-case hex of the content.
---@return string
function Buffer:toHex() end

---Standard padded base64 of the content.
---@return string
function Buffer:toBase64() end

---The length in bytes (as `#buf`).
---@return integer
function Buffer:len() end

---Bytes allocated (at least `#buf`).
---@return integer
function Buffer:capacity() end

---Reads a unsigned 8-bit value at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readUInt8(pos) end

---Writes a unsigned 8-bit value at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeUInt8(value, pos) end

---Reads a signed 8-bit value at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readInt8(pos) end

---Writes a signed 8-bit value at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeInt8(value, pos) end

---Reads a unsigned 16-bit value, little-endian at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readUInt16LE(pos) end

---Writes a unsigned 16-bit value, little-endian at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeUInt16LE(value, pos) end

---Reads a signed 16-bit value, little-endian at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readInt16LE(pos) end

---Writes a signed 16-bit value, little-endian at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeInt16LE(value, pos) end

---Reads a unsigned 16-bit value, big-endian (network order) at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readUInt16BE(pos) end

---Writes a unsigned 16-bit value, big-endian (network order) at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeUInt16BE(value, pos) end

---Reads a signed 16-bit value, big-endian (network order) at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readInt16BE(pos) end

---Writes a signed 16-bit value, big-endian (network order) at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeInt16BE(value, pos) end

---Reads a unsigned 32-bit value, little-endian at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readUInt32LE(pos) end

---Writes a unsigned 32-bit value, little-endian at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeUInt32LE(value, pos) end

---Reads a signed 32-bit value, little-endian at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readInt32LE(pos) end

---Writes a signed 32-bit value, little-endian at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeInt32LE(value, pos) end

---Reads a unsigned 32-bit value, big-endian (network order) at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readUInt32BE(pos) end

---Writes a unsigned 32-bit value, big-endian (network order) at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeUInt32BE(value, pos) end

---Reads a signed 32-bit value, big-endian (network order) at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readInt32BE(pos) end

---Writes a signed 32-bit value, big-endian (network order) at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeInt32BE(value, pos) end

---Reads a unsigned 64-bit value, little-endian at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readUInt64LE(pos) end

---Writes a unsigned 64-bit value, little-endian at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeUInt64LE(value, pos) end

---Reads a signed 64-bit value, little-endian at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readInt64LE(pos) end

---Writes a signed 64-bit value, little-endian at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeInt64LE(value, pos) end

---Reads a unsigned 64-bit value, big-endian (network order) at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readUInt64BE(pos) end

---Writes a unsigned 64-bit value, big-endian (network order) at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeUInt64BE(value, pos) end

---Reads a signed 64-bit value, big-endian (network order) at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return integer
function Buffer:readInt64BE(pos) end

---Writes a signed 64-bit value, big-endian (network order) at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value integer
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeInt64BE(value, pos) end

---Reads a 32-bit float value, little-endian at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return number
function Buffer:readFloatLE(pos) end

---Writes a 32-bit float value, little-endian at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value number
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeFloatLE(value, pos) end

---Reads a 64-bit float value, little-endian at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return number
function Buffer:readDoubleLE(pos) end

---Writes a 64-bit float value, little-endian at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value number
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeDoubleLE(value, pos) end

---Reads a 32-bit float value, big-endian (network order) at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return number
function Buffer:readFloatBE(pos) end

---Writes a 32-bit float value, big-endian (network order) at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value number
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeFloatBE(value, pos) end

---Reads a 64-bit float value, big-endian (network order) at the cursor (which moves) or at `pos`; `ERANGE` past the end.
---@param pos? integer
---@return number
function Buffer:readDoubleBE(pos) end

---Writes a 64-bit float value, big-endian (network order) at the cursor (which moves) or at `pos`, growing as needed;
---`EINVAL` when the value does not fit the type.
---@param value number
---@param pos? integer
---@return buffer.Buffer
function Buffer:writeDoubleBE(value, pos) end

return buffer
