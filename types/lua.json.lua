---@meta lua.json
-- iLoveReact's `lua.json` (also `compat.ilovereact.json`): moonwire's `json` (types/json.lua).

return json
