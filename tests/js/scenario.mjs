// The commerce scenario (tests/data/scenario_commerce.json) through b24jssdk's call.make, step by
// step as tests/test_scenario_commerce.py runs it: `{name}` filled from what earlier steps kept,
// a step marked `fails` recorded as its refusal.
// Case: { webhook, steps, kept } — prints { answers, kept }.
import { connect, described, readCase, report } from './harness.mjs'

const { webhook, steps, kept } = await readCase()
const b24 = connect(webhook)

function fill (value) {
  if (Array.isArray(value)) return value.map(fill)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item)]))
  }
  if (typeof value === 'string') {
    const whole = value.match(/^\{([a-z0-9_]+)\}$/)
    if (whole) return kept[whole[1]]
    return value.replace(/\{([a-z0-9_]+)\}/g, (_, name) => String(kept[name]))
  }
  return value
}

const dig = (answer, path) => path.split('.').reduce((found, part) => found[part], answer)

const answers = {}
for (const step of steps) {
  let answer
  try {
    const response = await b24.actions.v2.call.make({ method: step.method, params: fill(step.params) })
    answer = response.isSuccess ? response.getData() : { error: response.getErrorMessages().join('; ') }
  } catch (error) {
    answer = { error: described(error).code ?? 'error' }
  }
  if (('error' in answer) !== Boolean(step.fails)) {
    throw new Error(`${step.id} (${step.method}): ${JSON.stringify(answer)}`)
  }
  answers[step.id] = answer
  for (const [name, path] of Object.entries(step.keep ?? {})) kept[name] = dig(answer, path)
}
report({ answers, kept })
