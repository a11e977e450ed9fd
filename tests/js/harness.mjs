// The contract between pytest (tests/test_clients_b24jssdk.py) and each script here: the case
// arrives as one JSON object on stdin, the script prints one JSON object on stdout, and any
// unexpected exception ends it with a non-zero status and its stack on stderr.
import { B24Hook, B24OAuth, SdkError } from '@bitrix24/b24jssdk'

export async function readCase () {
  let text = ''
  for await (const chunk of process.stdin) text += chunk
  return JSON.parse(text)
}

// The webhook client exactly as an application builds it (https only; Node trusts a local CA
// through NODE_EXTRA_CA_CERTS, which pytest sets).
export function connect (webhookUrl) {
  const b24 = B24Hook.fromWebhookUrl(webhookUrl)
  b24.offClientSideWarning()
  return b24
}

// The OAuth client exactly as an application builds it from an /oauth/token/ reply (or the
// `auth[...]` of an ONAPPINSTALL event): calls go to `client_endpoint`, refreshes to
// `server_endpoint` without its `/rest/`, plus `/oauth/token/`. orderlink names itself in both.
// `domain` is the portal's host; the reply's own `domain` names the authorization server.
export function connectOAuth (tokens, secret) {
  const b24 = new B24OAuth({
    applicationToken: '',
    userId: Number(tokens.user_id),
    memberId: tokens.member_id,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    expires: Number(tokens.expires),
    expiresIn: Number(tokens.expires_in),
    scope: tokens.scope,
    domain: new URL(tokens.client_endpoint).host,
    clientEndpoint: tokens.client_endpoint,
    serverEndpoint: tokens.server_endpoint,
    status: tokens.status
  }, { clientId: secret.clientId, clientSecret: secret.clientSecret })
  b24.offClientSideWarning()
  return b24
}

// An error the SDK raised, reduced to what the tests compare: an AjaxError from a REST call, or
// an SdkError of its own; anything else is unexpected. A failed refresh raises RefreshTokenError,
// which the call wraps in an AjaxError: it comes back as `cause`.
export function described (error) {
  if (!(error instanceof SdkError)) throw error
  const found = { status: error.status, code: error.code, message: error.message }
  if (error.originalError instanceof SdkError) found.cause = described(error.originalError)
  return found
}

// What a refused call raises.
export async function refusal (promise) {
  try {
    await promise
  } catch (error) {
    return described(error)
  }
  throw new Error('the call was expected to be refused')
}

export function report (result) {
  process.stdout.write(JSON.stringify(result) + '\n')
}
