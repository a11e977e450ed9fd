// B24OAuth across an expiry, refreshing by itself. Three list calls:
// - with `clockUrl`: the first goes out with the token as issued; then orderlink's test clock
//   moves `advance` seconds, past the token's hour, so the second meets 401 `expired_token`, the
//   SDK posts the refresh grant to <server_endpoint without /rest/>/oauth/token/ and sends the
//   call again; the third reuses the new token.
// - without: the token's `expires` has already passed by the SDK's own clock, so it refreshes
//   before the first call, never meeting a 401.
// Each call reports its result or the error it raised (a failed refresh too).
// Case: { tokens (an /oauth/token/ reply), clientId, clientSecret, dealId, clockUrl?, advance? }.
import { connectOAuth, described, readCase, report } from './harness.mjs'

const { tokens, clientId, clientSecret, dealId, clockUrl, advance } = await readCase()
const b24 = connectOAuth(tokens, { clientId, clientSecret })
const refreshed = []
b24.setCallbackRefreshAuth(async ({ authData }) => {
  refreshed.push({ accessToken: authData.access_token, refreshToken: authData.refresh_token, expires: authData.expires })
})
const list = () => b24.actions.v2.call.make({ method: 'crm.orderentity.list', params: { filter: { ownerId: dealId } } })
const outcome = async (make) => {
  try {
    return { result: (await make()).getData().result }
  } catch (error) {
    return { error: described(error) }
  }
}

const calls = [await outcome(list)]
if (clockUrl) {
  const moved = await fetch(clockUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ advance }),
  })
  if (!moved.ok) throw new Error(`the clock did not move: ${moved.status}`)
}
calls.push(await outcome(list), await outcome(list))

report({ calls, refreshed, authData: b24.auth.getAuthData() })
