-- iLoveReact's json.lua (seed 000), require("lua.json"): moonwire's json module (encode, decode,
-- and the rest of docs/json.md).
return require("json")
