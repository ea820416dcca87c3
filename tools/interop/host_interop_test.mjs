// Interop of the connection stack and host: pubsub_node and a js-libp2p node connect over TCP, Noise and
// yamux or mplex, identify each other (each sees the other's protocols) and ping each other, in both
// directions; and a connection stays up for more than 60 s while js pings it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')

async function withProcs (procs, body) {
  try {
    await body()
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
}

function hasProtocol (event, protocol) {
  return Array.isArray(event.protocols) && event.protocols.includes(protocol)
}

for (const muxer of ['yamux', 'mplex']) {
  const muxerId = muxer === 'yamux' ? '/yamux/1.0.0' : '/mplex/6.7.0'

  test(`js dials ours over ${muxer}: identify and ping both ways`, async () => {
    const ours = new Proc('ours', NODE, ['--seed', 'ours', '--listen', '/ip4/127.0.0.1/tcp/0', '--muxer', muxer])
    const procs = [ours]
    await withProcs(procs, async () => {
      const started = await ours.event('started')
      assert.ok(hasProtocol(started, '/ipfs/ping/1.0.0'))
      const addr = started.listen_addrs[0]
      const js = Proc.js('js', ['--seed', 'js', '--listen', '/ip4/127.0.0.1/tcp/0', '--muxer', muxer,
        '--dial', addr, '--ping', addr])
      procs.push(js)
      const jsStarted = await js.event('started')
      const jsConnected = await js.event('connected')
      assert.equal(jsConnected.peer_id, started.peer_id)
      assert.equal(jsConnected.muxer, muxerId)
      assert.equal(jsConnected.security, '/noise')
      const jsIdentified = await js.waitFor((e) => e.event === 'identified' && e.peer_id === started.peer_id, 'identify of ours')
      assert.ok(hasProtocol(jsIdentified, '/ipfs/id/1.0.0'), JSON.stringify(jsIdentified))
      assert.ok(hasProtocol(jsIdentified, '/ipfs/ping/1.0.0'), JSON.stringify(jsIdentified))
      assert.match(jsIdentified.agent_version, /libp2p-pubsub-cpp/)
      // Our identify carries a signed peer record of our listen address, and js verified it.
      assert.ok(jsIdentified.signed_record_addrs?.length > 0, JSON.stringify(jsIdentified))
      for (const a of jsIdentified.signed_record_addrs) {
        assert.ok(started.listen_addrs.some((l) => l.startsWith(a)), `${a} not in ${started.listen_addrs}`)
      }
      const jsPing = await js.event('ping')
      assert.equal(jsPing.peer_id, started.peer_id)
      const connected = await ours.event('connected')
      assert.equal(connected.peer_id, jsStarted.peer_id)
      assert.equal(connected.direction, 'inbound')
      assert.equal(connected.muxer, muxerId)
      const identified = await ours.waitFor((e) => e.event === 'identified' && e.peer_id === jsStarted.peer_id, 'identify of js')
      assert.ok(hasProtocol(identified, '/ipfs/ping/1.0.0'), JSON.stringify(identified))
      assert.ok(hasProtocol(identified, '/ipfs/id/1.0.0'), JSON.stringify(identified))
      assert.match(identified.agent_version, /js-libp2p/)
    })
  })

  test(`ours dials js over ${muxer}: identify and ping both ways`, async () => {
    const js = Proc.js('js', ['--seed', 'js', '--listen', '/ip4/127.0.0.1/tcp/0', '--muxer', muxer, '--ping-every-ms', '500'])
    const procs = [js]
    await withProcs(procs, async () => {
      const jsStarted = await js.event('started')
      const addr = jsStarted.listen_addrs[0]
      const ours = new Proc('ours', NODE, ['--seed', 'ours', '--listen', '/ip4/127.0.0.1/tcp/0', '--muxer', muxer,
        '--dial', addr, '--ping', addr])
      procs.push(ours)
      const started = await ours.event('started')
      const connected = await ours.event('connected')
      assert.equal(connected.peer_id, jsStarted.peer_id)
      assert.equal(connected.direction, 'outbound')
      assert.equal(connected.muxer, muxerId)
      const ping = await ours.event('ping')
      assert.equal(ping.peer_id, jsStarted.peer_id)
      assert.ok(ping.rtt_ms >= 0)
      const identified = await ours.waitFor((e) => e.event === 'identified' && e.peer_id === jsStarted.peer_id, 'identify of js')
      assert.ok(hasProtocol(identified, '/ipfs/ping/1.0.0'))
      const jsIdentified = await js.waitFor((e) => e.event === 'identified' && e.peer_id === started.peer_id, 'identify of ours')
      assert.ok(hasProtocol(jsIdentified, '/ipfs/ping/1.0.0'))
      const jsPing = await js.waitFor((e) => e.event === 'ping' && e.peer_id === started.peer_id, 'js ping of ours')
      assert.ok(jsPing.rtt_ms >= 0)
    })
  })
}

test('connections over yamux and mplex stay up for more than 60 s while js pings them', { timeout: 120000 }, async () => {
  const procs = []
  await withProcs(procs, async () => {
    const pairs = await Promise.all(['yamux', 'mplex'].map(async (muxer) => {
      const ours = new Proc(`ours-${muxer}`, NODE, ['--seed', `long-${muxer}`, '--listen', '/ip4/127.0.0.1/tcp/0', '--muxer', muxer])
      procs.push(ours)
      const started = await ours.event('started')
      const js = Proc.js(`js-${muxer}`, ['--seed', `js-long-${muxer}`, '--listen', '/ip4/127.0.0.1/tcp/0', '--muxer', muxer,
        '--dial', started.listen_addrs[0], '--ping-every-ms', '5000'])
      procs.push(js)
      await js.event('connected')
      return { muxer, ours, js, started }
    }))
    const start = Date.now()
    await Promise.all(pairs.map(async ({ js, started }) => {
      // The twelfth periodic ping comes about 60 s after the connection opened.
      await js.waitFor((e) => e.event === 'ping' && e.peer_id === started.peer_id &&
        js.events.filter((x) => x.event === 'ping').length >= 12, '12 pings', 90000)
    }))
    assert.ok(Date.now() - start >= 55000)
    for (const { muxer, ours, js } of pairs) {
      assert.equal(js.events.filter((e) => e.event === 'disconnected').length, 0, `${muxer}: js saw a disconnect`)
      assert.equal(ours.events.filter((e) => e.event === 'disconnected').length, 0, `${muxer}: ours saw a disconnect`)
      assert.equal(js.events.filter((e) => e.event === 'error').length, 0, `${muxer}: js errors ${JSON.stringify(js.events.filter((e) => e.event === 'error'))}`)
    }
  })
})
