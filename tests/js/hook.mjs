// B24Hook against the target: bind, list, read the fields, be refused, unbind.
// Case: { webhook, orderId, dealId }.
import { connect, readCase, refusal, report } from './harness.mjs'

const { webhook, orderId, dealId } = await readCase()
const b24 = connect(webhook)
const call = (method, params = {}) => b24.actions.v2.call.make({ method, params })
const fields = { orderId, ownerId: dealId, ownerTypeId: 2 }

const added = await call('crm.orderentity.add', { fields })
const listed = await call('crm.orderentity.list', { filter: { ownerId: dealId }, select: ['orderId'] })
const described = await call('crm.orderentity.getFields')
const missingOwner = await refusal(call('crm.orderentity.add', { fields: { orderId } }))
const unknownMethod = await refusal(call('crm.orderentity.nosuchmethod'))
const deleted = await call('crm.orderentity.deleteByFilter', { fields })
const afterDelete = await call('crm.orderentity.list', { filter: { ownerId: dealId } })

report({
  added: added.getData().result,
  addedTimeKeys: Object.keys(added.getData().time).sort(),
  listed: listed.getData().result,
  listedTotal: listed.getTotal(),
  listedMore: listed.isMore(),
  described: described.getData().result,
  missingOwner,
  unknownMethod,
  deleted: deleted.getData().result,
  afterDelete: afterDelete.getData().result
})
