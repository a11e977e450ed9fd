// batch through B24Hook: keyed and listed commands, per-command totals, a refused command
// beside successful ones, and a `$result[...]` reference between two commands.
// Case: { webhook, dealId, orderIds } — bindings of one deal, more than a page of them.
import { connect, readCase, report } from './harness.mjs'

const { webhook, dealId, orderIds } = await readCase()
const b24 = connect(webhook)
const batch = (calls, options) => b24.actions.v2.batch.make({ calls, options })

const keyed = await batch({
  fields: { method: 'crm.orderentity.getFields' },
  first: { method: 'crm.orderentity.list', params: { filter: { orderId: orderIds[0] } } }
}, { isHaltOnError: true })

const listed = await batch([
  ['crm.orderentity.list', { filter: { ownerId: dealId } }],
  ['crm.orderentity.list', { filter: { ownerId: dealId }, start: 50 }]
], { isHaltOnError: true, returnAjaxResult: true })

const mixed = await batch([
  ['crm.orderentity.list', { filter: { orderId: orderIds[1] } }],
  ['crm.orderentity.add', { fields: { orderId: orderIds[1] } }]
], { isHaltOnError: false })

const chained = await batch({
  order: { method: 'sale.order.add', params: { fields: { lid: 's1', personTypeId: 1, currency: 'USD' } } },
  bind: {
    method: 'crm.orderentity.add',
    params: { fields: { orderId: '$result[order][order][id]', ownerId: dealId, ownerTypeId: 2 } }
  }
}, { isHaltOnError: true })

report({
  keyedSuccess: keyed.isSuccess,
  keyed: keyed.getData(),
  listedPages: listed.getData().map((page) => ({
    rows: page.getData().result.orderEntity.length,
    total: page.getTotal()
  })),
  mixedSuccess: mixed.isSuccess,
  mixed: mixed.getData(),
  mixedErrors: mixed.getErrorMessages(),
  chainedSuccess: chained.isSuccess,
  chained: chained.getData()
})
