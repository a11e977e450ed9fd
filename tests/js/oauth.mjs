// B24OAuth with a valid access token: bind, list, read the fields in a batch, unbind. While the
// token's `expires` lies ahead the SDK never refreshes.
// Case: { tokens (an /oauth/token/ reply), clientId, clientSecret, orderId, dealId }.
import { connectOAuth, readCase, report } from './harness.mjs'

const { tokens, clientId, clientSecret, orderId, dealId } = await readCase()
const b24 = connectOAuth(tokens, { clientId, clientSecret })
let refreshes = 0
b24.setCallbackRefreshAuth(async () => { refreshes += 1 })
const call = (method, params = {}) => b24.actions.v2.call.make({ method, params })
const fields = { orderId, ownerId: dealId, ownerTypeId: 2 }

const added = await call('crm.orderentity.add', { fields })
const listed = await call('crm.orderentity.list', { filter: { ownerId: dealId } })
const batch = await b24.actions.v2.batch.make({
  calls: {
    fields: { method: 'crm.orderentity.getFields' },
    mine: { method: 'crm.orderentity.list', params: { filter: { orderId }, select: ['ownerId'] } }
  },
  options: { isHaltOnError: true }
})
const deleted = await call('crm.orderentity.deleteByFilter', { fields })

report({
  added: added.getData().result,
  listed: listed.getData().result,
  listedTotal: listed.getTotal(),
  batchSuccess: batch.isSuccess,
  batch: batch.getData(),
  deleted: deleted.getData().result,
  refreshes,
  accessToken: b24.auth.getAuthData().access_token
})
