// libp2p/test-plans' gossipsub-interop scenarios, shortened (a 10 s warm-up, a message every 1.5 s; 5 s for
// the partial-messages one), on 16 pubsub_node processes over loopback (8 for partial messages, as the
// harness runs it): the harness's check must pass (run.mjs runs the full-length ones).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runScenario } from './run.mjs'

for (const [name, basePort] of [['subnet-blob-msg', 19600], ['simple-fanout', 19700]]) {
  test(`${name}, 16 nodes, shortened: every message reaches every node it is for`, { timeout: 180000 }, async () => {
    const r = await runScenario({ name, nodes: 16, short: true, basePort })
    assert.deepEqual(r.failedProcesses, [], `processes failed; logs in ${r.out}`)
    assert.ok(r.ok, `${r.lines.join('\n')}\nlogs in ${r.out}`)
    console.log(r.analysis.join('\n'))
  })
}

test('partial-messages, 8 nodes, shortened: every node logs "All parts received"', { timeout: 120000 }, async () => {
  const r = await runScenario({ name: 'partial-messages', nodes: 8, short: true, basePort: 19800 })
  assert.deepEqual(r.failedProcesses, [], `processes failed; logs in ${r.out}`)
  assert.ok(r.ok, `${r.lines.join('\n')}\nlogs in ${r.out}`)
})
