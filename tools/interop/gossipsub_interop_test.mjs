// GossipSub interop: a mixed mesh of three js-libp2p gossipsub nodes and three of ours. Every node receives
// every message published by any node; /meshsub/1.2.0 is negotiated; GRAFTs flow both ways; IDONTWANT is
// sent and honoured for messages of 1 KiB and more.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')
const PER_NODE = 30

async function withProcs (procs, body) {
  try {
    await body()
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
}

test('mixed gossipsub mesh of 3 js and 3 of ours delivers every message everywhere', { timeout: 120000 }, async () => {
  const procs = []
  await withProcs(procs, async () => {
    const publish = ['--publish-count', String(PER_NODE), '--publish-size', '2048', '--publish-interval-ms', '50',
      '--publish-delay-ms', '6000']
    const nodes = []
    // Ours 0 listens first; everyone else dials the nodes started before it, so the graph is connected.
    for (let i = 0; i < 6; i++) {
      const isJs = i % 2 === 1
      const dials = nodes.slice(Math.max(0, i - 2)).flatMap((n) => ['--dial', n.addr])
      const args = ['--seed', `gs-${i}`, '--listen', '/ip4/127.0.0.1/tcp/0', '--router', 'gossipsub', '--topic', 'mesh',
        ...dials, ...publish]
      const proc = isJs ? Proc.js(`js-${i}`, args) : new Proc(`ours-${i}`, NODE, args)
      procs.push(proc)
      const started = await proc.event('started')
      nodes.push({ proc, isJs, id: started.peer_id, addr: started.listen_addrs[0] })
    }
    // Everyone receives everyone else's messages.
    for (const receiver of nodes) {
      for (const sender of nodes) {
        if (sender === receiver) continue
        await receiver.proc.waitFor(() => new Set(receiver.proc.events
          .filter((e) => e.event === 'message' && e.from === sender.id).map((e) => e.seqno)).size >= PER_NODE,
        `${PER_NODE} messages from ${sender.proc.name} at ${receiver.proc.name}`, 60000)
      }
    }
    // No duplicates delivered.
    for (const n of nodes) {
      const msgs = n.proc.events.filter((e) => e.event === 'message')
      assert.equal(msgs.length, PER_NODE * 5, `${n.proc.name} delivered ${msgs.length}`)
    }
    // GRAFTs flow both ways: ours graft js peers (our graft events), and js peers graft ours (our summaries
    // count GRAFTs received). /meshsub/1.2.0 is the negotiated protocol, and IDONTWANT flows both ways.
    const jsIds = new Set(nodes.filter((n) => n.isJs).map((n) => n.id))
    const ours = nodes.filter((n) => !n.isJs)
    assert.ok(ours.some((n) => n.proc.events.some((e) => e.event === 'graft' && jsIds.has(e.peer_id))),
      'one of ours grafted a js peer')
    await Promise.all(ours.map((n) => n.proc.stop()))
    const summaries = ours.map((n) => n.proc.events.find((e) => e.event === 'summary'))
    for (const s of summaries) assert.ok(s, 'every node of ours printed its summary')
    assert.ok(summaries.some((s) => s.graft_received > 0), `no GRAFT received: ${JSON.stringify(summaries)}`)
    assert.ok(summaries.every((s) => s.meshsub_1_2_peers >= 1), `meshsub 1.2: ${JSON.stringify(summaries)}`)
    assert.ok(summaries.some((s) => s.idontwant_sent > 0), `no IDONTWANT sent: ${JSON.stringify(summaries)}`)
    assert.ok(summaries.some((s) => s.idontwant_received > 0), `no IDONTWANT received: ${JSON.stringify(summaries)}`)
    // Honoured: sends skipped or cancelled because the peer had said IDONTWANT.
    assert.ok(summaries.some((s) => s.sends_skipped_idontwant > 0), `IDONTWANT never honoured: ${JSON.stringify(summaries)}`)
  })
})
