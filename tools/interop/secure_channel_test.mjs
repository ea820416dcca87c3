// Interop of the secure channel: TCP, multistream-select, Noise (with the early muxer extension or
// without) and muxer agreement, between our secure_channel_peer and a js-libp2p node, both directions.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Proc, bazelBinary } from './harness.mjs'

const PEER = bazelBinary('tools/interop/secure_channel_peer')
// js-libp2p's identities for these seeds (SHA-256 of the seed as the Ed25519 seed).
const OURS_SEED = 'ours'
const JS_SEED = 'js1'

async function withProcs (procs, body) {
  try {
    await body()
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
}

for (const announce of [false, true]) {
  test(`js dials ours over Noise (${announce ? 'muxer in the Noise extension' : 'muxer by multistream-select'})`, async () => {
    const ours = new Proc('ours', PEER, ['--seed', OURS_SEED, '--listen', '/ip4/127.0.0.1/tcp/0',
      ...(announce ? ['--announce-muxers'] : [])])
    const procs = [ours]
    await withProcs(procs, async () => {
      const listening = await ours.event('listening')
      const js = Proc.js('js', ['--seed', JS_SEED, '--listen', '/ip4/127.0.0.1/tcp/0', '--dial', listening.listen_addrs[0]])
      procs.push(js)
      const jsStarted = await js.event('started')
      const secured = await ours.event('secured')
      assert.equal(secured.peer_id, jsStarted.peer_id)
      const muxer = await ours.event('muxer_selected')
      assert.equal(muxer.muxer, '/yamux/1.0.0')
      assert.equal(muxer.by, announce ? 'noise-extension' : 'multistream-select')
      const connected = await js.event('connected')
      assert.equal(connected.peer_id, listening.peer_id)
      assert.equal(connected.direction, 'outbound')
      assert.equal(connected.security, '/noise')
      assert.equal(connected.muxer, '/yamux/1.0.0')
    })
  })
}

test('ours dials js over Noise and checks its peer id', async () => {
  const js = Proc.js('js', ['--seed', JS_SEED, '--listen', '/ip4/127.0.0.1/tcp/0'])
  const procs = [js]
  await withProcs(procs, async () => {
    const jsStarted = await js.event('started')
    const ours = new Proc('ours', PEER, ['--seed', OURS_SEED, '--dial', jsStarted.listen_addrs[0]])
    procs.push(ours)
    const secured = await ours.event('secured')
    assert.equal(secured.peer_id, jsStarted.peer_id)
    const muxer = await ours.event('muxer_selected')
    assert.equal(muxer.muxer, '/yamux/1.0.0')
    const connected = await js.event('connected')
    assert.equal(connected.direction, 'inbound')
    assert.equal(connected.security, '/noise')
    const started = await ours.event('started')
    assert.equal(connected.peer_id, started.peer_id)
  })
})

test('dialing js under the wrong /p2p/ id fails the handshake', async () => {
  const js = Proc.js('js', ['--seed', JS_SEED, '--listen', '/ip4/127.0.0.1/tcp/0'])
  const procs = [js]
  await withProcs(procs, async () => {
    const jsStarted = await js.event('started')
    // The address of js under the peer id of seed "a".
    const wrong = jsStarted.listen_addrs[0].replace(/\/p2p\/.*/, '/p2p/12D3KooWRdFFg3yTbTsDq5Z1yCvCWbqznEFro9jeVivo7rkayJ4D')
    const ours = new Proc('ours', PEER, ['--seed', OURS_SEED, '--dial', wrong])
    procs.push(ours)
    const error = await ours.event('error')
    assert.match(error.message, /UNAUTHENTICATED.*but the remote is/)
  })
})
