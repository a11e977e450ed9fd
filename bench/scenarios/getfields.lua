-- crm.orderentity.getFields: the protocol path with no storage work.
request = function()
  return wrk.format("POST", wrk.path .. "crm.orderentity.getFields", { ["Content-Type"] = "application/json" }, "{}")
end
