// callList and fetchList: cursor paging with a `>idKey` filter, `order: {idKey: 'ASC'}` and
// `start: -1`, until a page holds fewer than 50 rows.
// Case: { webhook, dealId, dealTitle } — the bindings of one deal; the deals sharing one title.
import { connect, readCase, report } from './harness.mjs'

const { webhook, dealId, dealTitle } = await readCase()
const b24 = connect(webhook)
const bindings = {
  method: 'crm.orderentity.list',
  params: { filter: { ownerId: dealId } },
  idKey: 'orderId',
  customKeyForResult: 'orderEntity'
}
const deals = { method: 'crm.deal.list', params: { filter: { TITLE: dealTitle }, select: ['ID'] }, idKey: 'ID' }

const listed = await b24.actions.v2.callList.make(bindings)
const fetched = []
for await (const chunk of b24.actions.v2.fetchList.make(bindings)) fetched.push(chunk)
const dealChunks = []
for await (const chunk of b24.actions.v2.fetchList.make(deals)) dealChunks.push(chunk)

report({
  callListSuccess: listed.isSuccess,
  callList: listed.getData(),
  fetchListChunks: fetched.map((chunk) => chunk.length),
  fetchList: fetched.flat(),
  dealChunks: dealChunks.map((chunk) => chunk.length),
  dealIds: dealChunks.flat().map((row) => Number(row.ID))
})
