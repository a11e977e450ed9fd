-- batch of 50 crm.orderentity.add commands, each re-binding an order (the table keeps its size).
-- Reported as bindings per second: 50 per answered request.
local orders = tonumber(os.getenv("ORDERS") or "100000")
local step = 0
local offset = 0
local flip = {}

init = function(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
  offset = math.random(0, orders - 1)
end

request = function()
  local parts = {}
  for n = 1, 50 do
    step = step + 1
    local id = (step * 7919 + offset) % orders + 1
    local owner = id
    if flip[id] then
      flip[id] = nil
    else
      flip[id] = true
      owner = id % orders + 1
    end
    parts[n] = string.format(
      '"c%d":"crm.orderentity.add?fields[orderId]=%d&fields[ownerId]=%d&fields[ownerTypeId]=2"', n, id, owner)
  end
  local body = '{"halt":0,"cmd":{' .. table.concat(parts, ",") .. '}}'
  return wrk.format("POST", wrk.path .. "batch", { ["Content-Type"] = "application/json" }, body)
end
