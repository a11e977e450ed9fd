// The same list call, again and again, through B24Hook's own limiter and retries.
// Case: { webhook, times }.
import { connect, readCase, report } from './harness.mjs'

const { webhook, times } = await readCase()
const b24 = connect(webhook)
const totals = []
for (let i = 0; i < times; i++) {
  const answer = await b24.actions.v2.call.make({ method: 'crm.orderentity.list', params: {} })
  totals.push(answer.getTotal())
}
report({ totals })
