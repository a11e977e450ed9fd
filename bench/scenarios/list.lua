-- crm.orderentity.list with a filter. MODE=docs: the list page's own example (=ownerTypeId and
-- @ownerId with three ids, select two fields, order by orderId). MODE=cursor: bulk-export paging
-- as huge-data.md recommends (>orderId, order by orderId, start=-1).
local orders = tonumber(os.getenv("ORDERS") or "100000")
local mode = os.getenv("MODE") or "docs"

init = function(args)
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8), 16) or 0))
end

request = function()
  local body
  if mode == "cursor" then
    local after = math.random(0, orders - 50)
    body = string.format('{"filter":{">orderId":%d},"order":{"orderId":"asc"},"start":-1}', after)
  else
    local a, b, c = math.random(1, orders), math.random(1, orders), math.random(1, orders)
    body = string.format(
      '{"select":["orderId","ownerId"],"filter":{"=ownerTypeId":2,"@ownerId":[%d,%d,%d]},"order":{"orderId":"asc"}}',
      a, b, c)
  end
  return wrk.format("POST", wrk.path .. "crm.orderentity.list", { ["Content-Type"] = "application/json" }, body)
end
