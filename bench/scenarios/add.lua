-- crm.orderentity.add on a table that keeps its size: each add re-binds order i to another deal
-- (the "replace" path: one binding per order), alternating between deal i and deal i+1.
local orders = tonumber(os.getenv("ORDERS") or "100000")
local step = 0
local offset = 0
local flip = {}

init = function(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
  offset = math.random(0, orders - 1)
end

request = function()
  step = step + 1
  local id = (step * 7919 + offset) % orders + 1
  local owner = id
  if flip[id] then
    flip[id] = nil
  else
    flip[id] = true
    owner = id % orders + 1
  end
  local body = string.format('{"fields":{"orderId":%d,"ownerId":%d,"ownerTypeId":2}}', id, owner)
  return wrk.format("POST", wrk.path .. "crm.orderentity.add", { ["Content-Type"] = "application/json" }, body)
end
