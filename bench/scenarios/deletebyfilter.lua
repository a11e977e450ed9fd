-- deleteByFilter on a table that keeps its size: delete binding i, and re-add it a while later.
-- Each id waits in a FIFO for 1024 further requests before it is re-added, so the delete has long
-- been answered (each connection has at most one request in flight) before its add is sent (256
-- was too few at c64: a delete still queued behind 256 later requests made its add a duplicate);
-- ids are walked in a fixed permutation, so none is deleted again until all others have been.
-- env: ORDERS (number of bindings), MODE ("pair": orderlink, delete then re-add in two requests;
-- "single": the baseline, which deletes and re-inserts in one request).
local orders = tonumber(os.getenv("ORDERS") or "100000")
local mode = os.getenv("MODE") or "pair"
local pending = {}
local head, tail = 1, 0
local step = 0
local offset = 0
local counter = 0

local function body(id)
  return string.format('{"fields":{"orderId":%d,"ownerId":%d,"ownerTypeId":2}}', id, id)
end

init = function(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
  offset = math.random(0, orders - 1)
end

request = function()
  counter = counter + 1
  local headers = { ["Content-Type"] = "application/json" }
  if counter == 1 then
    -- wrk calls request() once per thread to check it and never sends that one: had it been
    -- a delete, that id's re-add would answer "Duplicate entry" later in the run.
    return wrk.format("POST", wrk.path .. "crm.orderentity.getFields", headers, "{}")
  end
  if mode == "single" then
    local id = math.random(1, orders)
    return wrk.format("POST", wrk.path .. "crm.orderentity.deletebyfilter", headers, body(id))
  end
  if tail - head >= 1024 then
    local id = pending[head]
    pending[head] = nil
    head = head + 1
    return wrk.format("POST", wrk.path .. "crm.orderentity.add", headers, body(id))
  end
  -- Walk every id once before any repeats (7919 is prime, so coprime with any ORDERS that is
  -- not a multiple of it): an id comes back only after ORDERS deletes.
  step = step + 1
  local id = (step * 7919 + offset) % orders + 1
  tail = tail + 1
  pending[tail] = id
  return wrk.format("POST", wrk.path .. "crm.orderentity.deletebyfilter", headers, body(id))
end
