// FloodSub interop between pubsub_node and js-libp2p nodes (@libp2p/floodsub), StrictSign: both
// directions over yamux and over mplex, and three-node lines where messages relay through the middle node
// (js - ours - js and ours - js - ours).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')
const COUNT = 20

async function withProcs (procs, body) {
  try {
    await body()
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
}

// Publishes COUNT messages of 1024 bytes through `proc`'s standard input (both nodes take --stdin).
function publishAll (proc) {
  for (let i = 0; i < COUNT; i++) proc.child.stdin.write(String(i).padStart(4, '0') + 'x'.repeat(1020) + '\n')
}

// Waits until `proc` has seen each of `peers` subscribe (a publisher that starts earlier would not send to
// a peer whose subscription it has not heard yet: a race, not a fault).
async function seesSubscriptions (proc, peers) {
  for (const peer of peers) {
    await proc.waitFor((e) => e.event === 'peer_subscribed' && e.peer_id === peer && e.subscribed, `subscription of ${peer}`)
  }
}

function ours (name, seed, extra) {
  return new Proc(name, NODE, ['--seed', seed, '--listen', '/ip4/127.0.0.1/tcp/0', '--router', 'floodsub',
    '--topic', 'interop', ...extra])
}

function js (name, seed, extra) {
  return Proc.js(name, ['--seed', seed, '--listen', '/ip4/127.0.0.1/tcp/0', '--router', 'floodsub',
    '--topic', 'interop', ...extra])
}

// Waits until `proc` has received COUNT distinct messages from `fromPeer`.
async function receivesAll (proc, fromPeer) {
  await proc.waitFor(() => new Set(proc.events.filter((e) => e.event === 'message' && e.from === fromPeer)
    .map((e) => e.seqno)).size >= COUNT, `${COUNT} messages from ${fromPeer}`, 30000)
  const got = proc.events.filter((e) => e.event === 'message' && e.from === fromPeer)
  assert.equal(got.length, COUNT, `${proc.name} received duplicates or extra messages`)
  for (const m of got) assert.equal(m.size, 1024)
}

for (const muxer of ['yamux', 'mplex']) {
  test(`floodsub both ways between ours and js over ${muxer}`, async () => {
    const procs = []
    await withProcs(procs, async () => {
      // Both publish from stdin once each has the other's subscription (a fixed delay could beat a slow start).
      const a = ours('ours', 'fs-ours', ['--muxer', muxer, '--stdin'])
      procs.push(a)
      const started = await a.event('started')
      const b = js('js', 'fs-js', ['--muxer', muxer, '--dial', started.listen_addrs[0], '--stdin'])
      procs.push(b)
      const bStarted = await b.event('started')
      const sub = await a.waitFor((e) => e.event === 'peer_subscribed' && e.peer_id === bStarted.peer_id, 'js subscription')
      assert.equal(sub.topic, 'interop')
      await seesSubscriptions(b, [started.peer_id])
      publishAll(a)
      publishAll(b)
      await Promise.all([receivesAll(a, bStarted.peer_id), receivesAll(b, started.peer_id)])
    })
  })
}

test('floodsub line js - ours - js relays through our node', async () => {
  const procs = []
  await withProcs(procs, async () => {
    const middle = ours('ours-middle', 'line-middle', [])
    procs.push(middle)
    const started = await middle.event('started')
    const left = js('js-left', 'line-left', ['--dial', started.listen_addrs[0], '--stdin'])
    const right = js('js-right', 'line-right', ['--dial', started.listen_addrs[0]])
    procs.push(left, right)
    const leftStarted = await left.event('started')
    const rightStarted = await right.event('started')
    await seesSubscriptions(middle, [leftStarted.peer_id, rightStarted.peer_id])
    await seesSubscriptions(left, [started.peer_id])
    publishAll(left)
    await receivesAll(right, leftStarted.peer_id)
    await receivesAll(middle, leftStarted.peer_id)
  })
})

test('floodsub line ours - js - ours relays through the js node', async () => {
  const procs = []
  await withProcs(procs, async () => {
    const middle = js('js-middle', 'line2-middle', [])
    procs.push(middle)
    const started = await middle.event('started')
    const left = ours('ours-left', 'line2-left', ['--dial', started.listen_addrs[0], '--stdin'])
    const right = ours('ours-right', 'line2-right', ['--dial', started.listen_addrs[0]])
    procs.push(left, right)
    const leftStarted = await left.event('started')
    const rightStarted = await right.event('started')
    await seesSubscriptions(middle, [leftStarted.peer_id, rightStarted.peer_id])
    await seesSubscriptions(left, [started.peer_id])
    publishAll(left)
    await receivesAll(right, leftStarted.peer_id)
    await receivesAll(middle, leftStarted.peer_id)
  })
})
