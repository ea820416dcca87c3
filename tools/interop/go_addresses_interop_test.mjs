// Interop with a peer that announces what a default go-libp2p peer announces: QUIC, WebTransport and
// WebRTC-direct addresses with certificate hashes, and a secure WebSocket address with an SNI, beside its real
// TCP listen address. A js-libp2p node announces them (its identify listenAddrs and its signed peer record
// carry them, which the first test checks with a second js node and by decoding the record's bytes); our node
// connects to it, in either direction, and the connection stays up through identify while gossipsub messages
// flow both ways.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')
const TOPIC = 'go-addresses'
const COUNT = 5

// A certificate hash as go-libp2p prints it: a sha2-256 multihash (0x12, 32 bytes) in multibase base64url ('u').
function sha256 (label) {
  return createHash('sha256').update(label, 'utf8').digest()
}
function certhash (label) {
  return 'u' + Buffer.concat([Buffer.from([0x12, 0x20]), sha256(label)]).toString('base64url')
}

// go-libp2p's default listen addresses (TCP, QUIC v1, WebTransport, WebRTC-direct on IPv4 and IPv6) as a
// public node announces them, and an AutoTLS secure WebSocket address.
const GO_ADDRS = [
  '/ip4/1.2.3.4/tcp/4001',
  '/ip4/1.2.3.4/udp/4001/quic-v1',
  `/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/${certhash('webtransport-1')}/certhash/${certhash('webtransport-2')}`,
  `/ip4/1.2.3.4/udp/4001/webrtc-direct/certhash/${certhash('webrtc')}`,
  '/ip6/2001:db8::1/udp/4001/quic-v1',
  `/ip6/2001:db8::1/udp/4001/quic-v1/webtransport/certhash/${certhash('webtransport-1')}/certhash/${certhash('webtransport-2')}`,
  `/ip6/2001:db8::1/udp/4001/webrtc-direct/certhash/${certhash('webrtc')}`,
  '/dns4/example.com/tcp/443/tls/sni/example.com/ws'
]

// The binary form of the IPv4 WebRTC-direct address, written out from the multicodec table: ip4 (0x04)
// 1.2.3.4, udp (0x0111) 4001, webrtc-direct (0x0118), certhash (0x01d2) with 34 bytes of multihash.
const WEBRTC_DIRECT_HEX = '04' + '01020304' + '9102' + '0fa1' + '9802' + 'd203' + '22' + '1220' + sha256('webrtc').toString('hex')

function announcingJs (name, seed, extra) {
  return Proc.js(name, ['--seed', seed, '--listen', '/ip4/127.0.0.1/tcp/0',
    ...GO_ADDRS.flatMap((a) => ['--append-announce', a]), ...extra])
}

async function withProcs (procs, body) {
  try {
    await body()
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
}

// The fields of a protobuf message: [number, value] with value a number (varint) or bytes (length-delimited).
function protoFields (buf) {
  const fields = []
  let i = 0
  const varint = () => {
    let v = 0n
    for (let shift = 0n; ; shift += 7n) {
      assert.ok(i < buf.length, 'protobuf ends inside a varint')
      const b = buf[i++]
      v |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return v
    }
  }
  while (i < buf.length) {
    const key = Number(varint())
    const type = key & 7
    if (type === 0) {
      fields.push([key >> 3, varint()])
    } else if (type === 2) {
      const len = Number(varint())
      assert.ok(i + len <= buf.length, 'protobuf field runs past the end')
      fields.push([key >> 3, buf.subarray(i, i + len)])
      i += len
    } else {
      assert.fail(`unexpected protobuf wire type ${type}`)
    }
  }
  return fields
}

// The multiaddrs of a signed peer record envelope (RFC 0002 envelope, RFC 0003 record), as hex strings.
function recordAddrsHex (envelopeHex) {
  const envelope = protoFields(Buffer.from(envelopeHex, 'hex'))
  const payloadType = envelope.find(([n]) => n === 2)?.[1]
  assert.equal(Buffer.from(payloadType).toString('hex'), '0301', 'payload type is libp2p-peer-record')
  const payload = envelope.find(([n]) => n === 3)?.[1]
  assert.ok(payload, 'envelope has a payload')
  return protoFields(payload).filter(([n]) => n === 3)
    .map(([, info]) => Buffer.from(protoFields(info).find(([n]) => n === 1)[1]).toString('hex'))
}

test('js announces go-like addresses in identify listenAddrs and in its signed peer record', async () => {
  const procs = []
  await withProcs(procs, async () => {
    const announcer = announcingJs('js-announcer', 'goaddrs-announcer', [])
    procs.push(announcer)
    const started = await announcer.event('started')
    const tcpAddr = started.listen_addrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))
    assert.ok(tcpAddr, JSON.stringify(started))
    const expected = [tcpAddr.split('/p2p/')[0], ...GO_ADDRS]
    const observer = Proc.js('js-observer', ['--seed', 'goaddrs-observer', '--listen', '/ip4/127.0.0.1/tcp/0',
      '--dial', tcpAddr])
    procs.push(observer)
    const identified = await observer.waitFor((e) => e.event === 'identified' && e.peer_id === started.peer_id,
      'identify of the announcer')
    assert.deepEqual([...identified.listen_addrs].sort(), [...expected].sort(), 'identify listenAddrs')
    assert.deepEqual([...(identified.signed_record_addrs ?? [])].sort(), [...expected].sort(), 'signed peer record')
    // The record's bytes, decoded here rather than by js: every address, and the WebRTC-direct one byte for byte.
    const record = await observer.waitFor((e) => e.event === 'peer_record' && e.peer_id === started.peer_id,
      'the announcer\'s signed peer record')
    const addrsHex = recordAddrsHex(record.envelope)
    assert.deepEqual([...addrsHex].sort(), expected.map((a) => Buffer.from(multiaddr(a).bytes).toString('hex')).sort())
    assert.ok(addrsHex.includes(WEBRTC_DIRECT_HEX), `${WEBRTC_DIRECT_HEX} not among ${addrsHex}`)
  })
})

// Waits for the first event of `proc` matching `match`, failing at once if `proc` reports a disconnect from
// `peer` first.
async function whileConnected (proc, peer, match, what) {
  const found = await proc.waitFor((e) => match(e) || (e.event === 'disconnected' && e.peer_id === peer),
    `${what} (or a disconnect from ${peer})`)
  if (!match(found)) {
    assert.fail(`${proc.name} disconnected from ${peer} before ${what}: ${JSON.stringify(found)}; ` +
      `events: ${JSON.stringify(proc.events)}`)
  }
  return found
}

function messagesFrom (proc, peer) {
  return proc.events.filter((e) => e.event === 'message' && e.from === peer).map((e) => e.data).sort()
}

for (const dialer of ['js', 'ours']) {
  test(`${dialer === 'js' ? 'js dials ours' : 'ours dials js'}: the js peer with go-like addresses stays ` +
    'connected through identify, and gossipsub messages flow both ways', { timeout: 30000 }, async () => {
    const procs = []
    await withProcs(procs, async () => {
      const oursArgs = ['--seed', `goaddrs-ours-${dialer}`, '--listen', '/ip4/127.0.0.1/tcp/0', '--router',
        'gossipsub', '--topic', TOPIC, '--stdin']
      const jsArgs = ['--router', 'gossipsub', '--topic', TOPIC, '--stdin']
      let ours, js, oursId, jsId
      if (dialer === 'js') {
        ours = new Proc('ours', NODE, oursArgs)
        procs.push(ours)
        const started = await ours.event('started')
        oursId = started.peer_id
        js = announcingJs('js', `goaddrs-js-${dialer}`, [...jsArgs, '--dial', started.listen_addrs[0]])
        procs.push(js)
        jsId = (await js.event('started')).peer_id
      } else {
        js = announcingJs('js', `goaddrs-js-${dialer}`, jsArgs)
        procs.push(js)
        const started = await js.event('started')
        jsId = started.peer_id
        const tcpAddr = started.listen_addrs.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/'))
        ours = new Proc('ours', NODE, [...oursArgs, '--dial', tcpAddr])
        procs.push(ours)
        oursId = (await ours.event('started')).peer_id
      }
      const direction = (side) => (side === dialer ? 'outbound' : 'inbound')

      // Connected, then identified on both sides. Our node reports `identified` only once it has accepted the
      // peer's identify message, signed peer record included.
      const connected = await whileConnected(ours, jsId, (e) => e.event === 'connected' && e.peer_id === jsId, 'connected')
      assert.equal(connected.direction, direction('ours'))
      const jsConnected = await whileConnected(js, oursId, (e) => e.event === 'connected' && e.peer_id === oursId, 'connected')
      assert.equal(jsConnected.direction, direction('js'))
      const identified = await whileConnected(ours, jsId, (e) => e.event === 'identified' && e.peer_id === jsId,
        'identify of the js peer')
      assert.match(identified.agent_version, /js-libp2p/)
      assert.ok(identified.protocols.some((p) => p.startsWith('/meshsub/')), JSON.stringify(identified))
      await whileConnected(js, oursId, (e) => e.event === 'identified' && e.peer_id === oursId, 'identify of ours')

      // Each side has the other's subscription, then each publishes COUNT messages and receives the other's.
      await whileConnected(ours, jsId, (e) => e.event === 'peer_subscribed' && e.peer_id === jsId && e.topic === TOPIC &&
        e.subscribed, 'the js subscription')
      await whileConnected(js, oursId, (e) => e.event === 'peer_subscribed' && e.peer_id === oursId && e.topic === TOPIC &&
        e.subscribed, 'our subscription')
      const fromOurs = Array.from({ length: COUNT }, (_, i) => `from ours ${i}`)
      const fromJs = Array.from({ length: COUNT }, (_, i) => `from js ${i}`)
      for (const m of fromOurs) ours.child.stdin.write(m + '\n')
      for (const m of fromJs) js.child.stdin.write(m + '\n')
      await whileConnected(ours, jsId, () => messagesFrom(ours, jsId).length >= COUNT, `${COUNT} messages from js`)
      await whileConnected(js, oursId, () => messagesFrom(js, oursId).length >= COUNT, `${COUNT} messages from ours`)
      assert.deepEqual(messagesFrom(ours, jsId), fromJs.sort())
      assert.deepEqual(messagesFrom(js, oursId), fromOurs.sort())

      // The one connection stayed up all along: one connect and no disconnect on either side, and no errors.
      for (const [proc, peer] of [[ours, jsId], [js, oursId]]) {
        const about = proc.events.filter((e) => (e.event === 'connected' || e.event === 'disconnected') && e.peer_id === peer)
        assert.deepEqual(about.map((e) => e.event), ['connected'], `${proc.name}: ${JSON.stringify(about)}`)
        const errors = proc.events.filter((e) => e.event === 'error')
        assert.deepEqual(errors, [], `${proc.name} reported errors`)
      }
    })
  })
}
