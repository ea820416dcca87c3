// Who may come in, against js-libp2p: private networks (@libp2p/pnet and our --swarm-key share a key file:
// pubsub works; with different keys no connection is made, our node names a likely key mismatch and js's
// dial fails), and the connection gater (--deny-peer, --deny-cidr, --allow-cidr), refused at the earliest
// point in both directions. Distinct addresses come from 127.0.0.x sources (js's --dial-source).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKey } from '@libp2p/pnet'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')
const COUNT = 10

// The peer id of js_node.mjs --seed `seed` (its Ed25519 seed is SHA-256 of the string).
async function jsPeerId (seed) {
  const key = await generateKeyPairFromSeed('Ed25519', createHash('sha256').update(seed, 'utf8').digest())
  return peerIdFromPrivateKey(key).toString()
}

async function withProcs (body) {
  const procs = []
  const dir = mkdtempSync(path.join(tmpdir(), 'access-'))
  try {
    await body(procs, dir)
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
}

// A swarm key file written by js-libp2p's generateKey.
function keyFile (dir, name) {
  const bytes = new Uint8Array(95)
  generateKey(bytes)
  const file = path.join(dir, name)
  writeFileSync(file, bytes)
  return file
}

const connectedTo = (proc, peer) => proc.events.some((e) => e.event === 'connected' && e.peer_id === peer)

test('private network: ours and js with the same swarm key exchange pubsub messages both ways', { timeout: 60000 }, async () => {
  await withProcs(async (procs, dir) => {
    const key = keyFile(dir, 'swarm.key')
    const ours = new Proc('ours', NODE, ['--seed', 'pnet-ours', '--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', key,
      '--topic', 'private', '--stdin'])
    procs.push(ours)
    const started = await ours.event('started')
    assert.match(started.swarm_key_fingerprint, /^[0-9a-f]{8}$/)
    const js = Proc.js('js', ['--seed', 'pnet-js', '--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', key,
      '--router', 'gossipsub', '--topic', 'private', '--dial', started.listen_addrs[0], '--stdin'])
    procs.push(js)
    const jsStarted = await js.event('started')
    await ours.waitFor((e) => e.event === 'peer_subscribed' && e.peer_id === jsStarted.peer_id, 'js subscribed')
    await js.waitFor((e) => e.event === 'peer_subscribed' && e.peer_id === started.peer_id, 'ours subscribed')
    // Gossipsub needs a mesh before publishing reaches the peer: wait for the graft.
    await ours.waitFor((e) => e.event === 'graft' && e.peer_id === jsStarted.peer_id, 'graft of js')
    for (let i = 0; i < COUNT; i++) {
      ours.child.stdin.write(`from-ours-${i}\n`)
      js.child.stdin.write(`from-js-${i}\n`)
    }
    await js.waitFor(() => js.events.filter((e) => e.event === 'message' && e.from === started.peer_id).length >= COUNT,
      `${COUNT} messages from ours`)
    await ours.waitFor(() => ours.events.filter((e) => e.event === 'message' && e.from === jsStarted.peer_id).length >= COUNT,
      `${COUNT} messages from js`)
    const c = ours.events.find((e) => e.event === 'connected')
    assert.equal(c.security, '/noise')
  })
})

test('private network: with different keys nothing connects, ours names a likely key mismatch, js\'s dial fails', { timeout: 60000 }, async () => {
  await withProcs(async (procs, dir) => {
    const ourKey = keyFile(dir, 'ours.key')
    const jsKey = keyFile(dir, 'js.key')
    const ours = new Proc('ours', NODE, ['--seed', 'pnet-ours', '--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', ourKey,
      '--topic', 'private'])
    procs.push(ours)
    const started = await ours.event('started')
    // js dials us.
    const js = Proc.js('js', ['--seed', 'pnet-js', '--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', jsKey,
      '--router', 'gossipsub', '--topic', 'private', '--dial', started.listen_addrs[0]])
    procs.push(js)
    const jsStarted = await js.event('started')
    const jsError = await js.waitFor((e) => e.event === 'error' && e.message.startsWith('dial '), 'js dial error')
    // js fails on the noise it reads from us (its multistream parser's words vary with the noise: "Missing
    // newline", "Message length length too long") or on our reset, which comes at the first byte of js's
    // that is not multistream-select's header. It does not wait for its dial timeout.
    assert.doesNotMatch(jsError.message, /timeout/i)
    const inbound = await ours.event('inbound_error')
    assert.match(inbound.error, /likely a swarm key mismatch/)
    // We dial js.
    ours.child.stdin.end()
    const dialer = new Proc('ours-dialer', NODE, ['--seed', 'pnet-dialer', '--swarm-key', ourKey, '--topic', 'private',
      '--dial', jsStarted.listen_addrs[0], '--duration-s', '30'])
    procs.push(dialer)
    const dialError = await dialer.event('dial_error')
    assert.match(dialError.error, /likely a swarm key mismatch/)
    assert.ok(!connectedTo(ours, jsStarted.peer_id), JSON.stringify(ours.events))
    assert.ok(!connectedTo(dialer, jsStarted.peer_id), JSON.stringify(dialer.events))
    assert.ok(!js.events.some((e) => e.event === 'connected'), JSON.stringify(js.events))
  })
})

test('private network: a node without a key and one with it do not connect', { timeout: 60000 }, async () => {
  await withProcs(async (procs, dir) => {
    const key = keyFile(dir, 'swarm.key')
    const ours = new Proc('ours', NODE, ['--seed', 'pnet-ours', '--listen', '/ip4/127.0.0.1/tcp/0', '--swarm-key', key])
    procs.push(ours)
    const started = await ours.event('started')
    const js = Proc.js('js', ['--seed', 'public-js', '--listen', '/ip4/127.0.0.1/tcp/0', '--dial', started.listen_addrs[0]])
    procs.push(js)
    await js.waitFor((e) => e.event === 'error' && e.message.startsWith('dial '), 'js dial error')
    const inbound = await ours.event('inbound_error')
    assert.match(inbound.error, /likely a swarm key mismatch/)
    assert.ok(!js.events.some((e) => e.event === 'connected'), JSON.stringify(js.events))
  })
})

test('gater: a denied peer id is refused before we dial it and after the handshake when it dials us', { timeout: 60000 }, async () => {
  await withProcs(async (procs) => {
    const denied = await jsPeerId('gater-denied')
    const js = Proc.js('js', ['--seed', 'gater-denied', '--listen', '/ip4/127.0.0.1/tcp/0'])
    procs.push(js)
    const jsStarted = await js.event('started')
    assert.equal(jsStarted.peer_id, denied)
    // Outbound: refused before any connection is made.
    const ours = new Proc('ours', NODE, ['--seed', 'gater-ours', '--listen', '/ip4/127.0.0.1/tcp/0', '--deny-peer', denied,
      '--topic', 't', '--dial', jsStarted.listen_addrs[0]])
    procs.push(ours)
    const started = await ours.event('started')
    const dialError = await ours.event('dial_error')
    assert.match(dialError.error, /PERMISSION_DENIED|PermissionDenied|permission/i)
    assert.match(dialError.error, /refused by the connection gater before dialing the peer/)
    assert.ok(!js.events.some((e) => e.event === 'connected'), JSON.stringify(js.events))
    // Inbound: its id is known only once the handshake authenticated it, and it is refused there.
    const js2 = Proc.js('js-dialer', ['--seed', 'gater-denied', '--dial', started.listen_addrs[0], '--duration-s', '30'])
    procs.push(js2)
    const inbound = await ours.event('inbound_error')
    assert.match(inbound.error, /refused by the connection gater after the secure handshake/)
    assert.match(inbound.error, new RegExp(denied))
    assert.ok(!connectedTo(ours, denied), JSON.stringify(ours.events))
    // A peer the list does not deny still gets in.
    const other = Proc.js('js-other', ['--seed', 'gater-other', '--dial', started.listen_addrs[0], '--duration-s', '30'])
    procs.push(other)
    const otherStarted = await other.event('started')
    await ours.waitFor((e) => e.event === 'connected' && e.peer_id === otherStarted.peer_id, 'the other peer')
  })
})

test('gater: a denied range is refused on accept, before any handshake; an allowed one gets in', { timeout: 60000 }, async () => {
  await withProcs(async (procs) => {
    const ours = new Proc('ours', NODE, ['--seed', 'cidr-ours', '--listen', '/ip4/127.0.0.1/tcp/0',
      '--deny-cidr', '127.0.0.3/32', '--topic', 't'])
    procs.push(ours)
    const started = await ours.event('started')
    const deniedJs = Proc.js('js-denied', ['--seed', 'cidr-denied', '--dial-source', '127.0.0.3', '--dial', started.listen_addrs[0],
      '--duration-s', '30'])
    procs.push(deniedJs)
    const jsError = await deniedJs.waitFor((e) => e.event === 'error' && e.message.startsWith('dial '), 'js dial error')
    // js wraps any failure of its security step (the negotiation of it included) as "Encryption failed",
    // with no cause when the error it caught had no message: the reset can surface as that.
    assert.match(jsError.message, /ECONNRESET|EOF|closed|reset|Encryption failed/i)
    const inbound = await ours.event('inbound_error')
    assert.match(inbound.addr, /^\/ip4\/127\.0\.0\.3\/tcp\//)
    assert.match(inbound.error, /refused by the connection gater on accept/)
    assert.match(inbound.error, /127\.0\.0\.3\/32/)
    const allowedJs = Proc.js('js-allowed', ['--seed', 'cidr-allowed', '--dial-source', '127.0.0.2', '--dial', started.listen_addrs[0],
      '--duration-s', '30'])
    procs.push(allowedJs)
    const allowedStarted = await allowedJs.event('started')
    await ours.waitFor((e) => e.event === 'connected' && e.peer_id === allowedStarted.peer_id, 'the allowed peer')
    assert.ok(!connectedTo(ours, (await deniedJs.event('started')).peer_id))
  })
})

test('gater: with --allow-cidr only the listed range gets in; we do not dial a denied range', { timeout: 60000 }, async () => {
  await withProcs(async (procs) => {
    const ours = new Proc('ours', NODE, ['--seed', 'allow-ours', '--listen', '/ip4/127.0.0.1/tcp/0',
      '--allow-cidr', '127.0.0.2/32', '--topic', 't'])
    procs.push(ours)
    const started = await ours.event('started')
    const outside = Proc.js('js-outside', ['--seed', 'allow-outside', '--dial-source', '127.0.0.4', '--dial', started.listen_addrs[0],
      '--duration-s', '30'])
    procs.push(outside)
    await outside.waitFor((e) => e.event === 'error' && e.message.startsWith('dial '), 'js dial error')
    const inbound = await ours.event('inbound_error')
    assert.match(inbound.error, /is in no allowed range/)
    const inside = Proc.js('js-inside', ['--seed', 'allow-inside', '--dial-source', '127.0.0.2', '--dial', started.listen_addrs[0],
      '--duration-s', '30'])
    procs.push(inside)
    const insideStarted = await inside.event('started')
    await ours.waitFor((e) => e.event === 'connected' && e.peer_id === insideStarted.peer_id, 'the allowed peer')

    // Outbound: a js node listening on 127.0.0.5, which our second node denies: never dialed.
    const target = Proc.js('js-target', ['--seed', 'deny-target', '--listen', '/ip4/127.0.0.5/tcp/0'])
    procs.push(target)
    const targetStarted = await target.event('started')
    const dialer = new Proc('ours-dialer', NODE, ['--seed', 'deny-dialer', '--deny-cidr', '127.0.0.5/32',
      '--dial', targetStarted.listen_addrs[0], '--duration-s', '30'])
    procs.push(dialer)
    const dialError = await dialer.event('dial_error')
    assert.match(dialError.error, /refused by the connection gater before dialing the address/)
    assert.ok(!target.events.some((e) => e.event === 'connected'), JSON.stringify(target.events))
  })
})
