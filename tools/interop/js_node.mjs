// A js-libp2p node for the interop tests, speaking the same NDJSON event stream as pubsub_node
// (docs/cli.md) so that tests read both sides alike.
//
//   node js_node.mjs --listen /ip4/127.0.0.1/tcp/0 [--dial ADDR]... [--seed S] [--muxer yamux|mplex]
//                    [--ping ADDR] [--router gossipsub|floodsub|none] [--topic T]... [--sign strict|none]
//                    [--publish-count N --publish-size B --publish-interval-ms MS --publish-delay-ms MS]
//                    [--duration-s S] [--ping-every-ms MS] [--append-announce ADDR]... [--stdin]
//                    [--swarm-key FILE] [--dial-source IP]
// --append-announce adds ADDR to the addresses it announces (identify listenAddrs and its signed peer record),
// beside its real listen addresses. --stdin publishes each line of standard input to the first --topic.
// --swarm-key joins the private network of that key file (@libp2p/pnet); --dial-source binds its dials to
// that local IP address (e.g. 127.0.0.3), so that tests can tell nodes apart by address.
// It exits by itself after --duration-s or, without that flag, when its standard input closes.
// Beyond pubsub_node's events: `identified` also carries the peer's `listen_addrs` and `signed_record_addrs`,
// and `peer_record` (`peer_id`, `envelope` in hex) the signed peer record envelope js verified and stored.
import './polyfill.mjs'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { mplex } from '@libp2p/mplex'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { generateKeyPairFromSeed, generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'

function parseArgs (argv) {
  const opts = { listen: [], dial: [], topic: [], ping: [], muxer: 'yamux', router: 'none', sign: 'strict',
    publishCount: 0, publishSize: 64, publishIntervalMs: 100, publishDelayMs: 1000, durationS: 0, seed: null,
    pingEveryMs: 0, appendAnnounce: [], stdin: false, swarmKey: null, dialSource: null }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    if (flag === '--stdin') { opts.stdin = true; continue }
    const value = argv[++i]
    if (value === undefined) throw new Error(`${flag} needs a value`)
    switch (flag) {
      case '--listen': opts.listen.push(value); break
      case '--dial': opts.dial.push(value); break
      case '--topic': opts.topic.push(value); break
      case '--ping': opts.ping.push(value); break
      case '--seed': opts.seed = value; break
      case '--muxer': opts.muxer = value; break
      case '--router': opts.router = value; break
      case '--sign': opts.sign = value; break
      case '--publish-count': opts.publishCount = Number(value); break
      case '--publish-size': opts.publishSize = Number(value); break
      case '--publish-interval-ms': opts.publishIntervalMs = Number(value); break
      case '--publish-delay-ms': opts.publishDelayMs = Number(value); break
      case '--duration-s': opts.durationS = Number(value); break
      case '--ping-every-ms': opts.pingEveryMs = Number(value); break
      case '--append-announce': opts.appendAnnounce.push(value); break
      case '--swarm-key': opts.swarmKey = value; break
      case '--dial-source': opts.dialSource = value; break
      default: throw new Error(`unknown flag ${flag}`)
    }
  }
  return opts
}

function emit (event, fields) {
  process.stdout.write(JSON.stringify({ event, time_ms: Date.now(), ...fields }) + '\n')
}

const hex = (bytes) => Buffer.from(bytes).toString('hex')

async function main () {
  const opts = parseArgs(process.argv.slice(2))
  const privateKey = opts.seed !== null
    ? await generateKeyPairFromSeed('Ed25519', createHash('sha256').update(opts.seed, 'utf8').digest())
    : await generateKeyPair('Ed25519')

  const services = { identify: identify(), ping: ping() }
  if (opts.router === 'gossipsub') {
    const { gossipsub } = await import('@libp2p/gossipsub')
    services.pubsub = gossipsub({ globalSignaturePolicy: opts.sign === 'none' ? 'StrictNoSign' : 'StrictSign',
      allowPublishToZeroTopicPeers: true })
  } else if (opts.router === 'floodsub') {
    const { floodsub } = await import('@libp2p/floodsub')
    services.pubsub = floodsub({ globalSignaturePolicy: opts.sign === 'none' ? 'StrictNoSign' : 'StrictSign' })
  }

  const extra = {}
  if (opts.swarmKey !== null) {
    const { preSharedKey } = await import('@libp2p/pnet')
    extra.connectionProtector = preSharedKey({ psk: readFileSync(opts.swarmKey) })
  }
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: opts.listen, appendAnnounce: opts.appendAnnounce },
    transports: [tcp(opts.dialSource !== null ? { dialOpts: { localAddress: opts.dialSource } } : {})],
    ...extra,
    connectionEncrypters: [noise()],
    streamMuxers: [opts.muxer === 'mplex' ? mplex() : yamux()],
    services
  })

  let received = 0
  let published = 0
  node.addEventListener('connection:open', (evt) => {
    const c = evt.detail
    emit('connected', { peer_id: c.remotePeer.toString(), direction: c.direction, security: c.encryption,
      muxer: c.multiplexer, remote_addr: c.remoteAddr.toString() })
  })
  node.addEventListener('connection:close', (evt) => {
    const c = evt.detail
    emit('disconnected', { peer_id: c.remotePeer.toString(), direction: c.direction })
  })
  node.addEventListener('peer:identify', (evt) => {
    const d = evt.detail
    emit('identified', { peer_id: d.peerId.toString(), agent_version: d.agentVersion ?? '',
      protocols: d.protocols ?? [],
      listen_addrs: (d.listenAddrs ?? []).map((a) => a.toString()),
      // Present only when the peer sent a signed peer record and js verified it.
      signed_record_addrs: d.signedPeerRecord?.addresses.map((a) => a.toString()) ?? null })
    if (d.signedPeerRecord != null) {
      // The envelope bytes as the peer store keeps them (what the peer sent, or a newer record it sent before).
      node.peerStore.get(d.peerId).then((peer) => {
        if (peer.peerRecordEnvelope != null) emit('peer_record', { peer_id: d.peerId.toString(), envelope: hex(peer.peerRecordEnvelope) })
      }, () => {})
    }
  })
  if (services.pubsub) {
    node.services.pubsub.addEventListener('subscription-change', (evt) => {
      for (const s of evt.detail.subscriptions) {
        emit('peer_subscribed', { peer_id: evt.detail.peerId.toString(), topic: s.topic, subscribed: s.subscribe })
      }
    })
    node.services.pubsub.addEventListener('message', (evt) => {
      const m = evt.detail
      received++
      const fields = { topic: m.topic, size: m.data.length }
      if (m.type === 'signed') {
        fields.from = m.from.toString()
        fields.seqno = m.sequenceNumber.toString(16).padStart(16, '0')
      }
      const text = Buffer.from(m.data).toString('utf8')
      if (m.data.length <= 256 && Buffer.from(text, 'utf8').equals(Buffer.from(m.data))) fields.data = text
      emit('message', fields)
    })
    for (const t of opts.topic) node.services.pubsub.subscribe(t)
  }

  await node.start()
  emit('started', { peer_id: node.peerId.toString(), listen_addrs: node.getMultiaddrs().map(String),
    protocols: node.getProtocols() })

  for (const addr of opts.dial) {
    try {
      await node.dial(multiaddr(addr))
    } catch (err) {
      emit('error', { message: `dial ${addr}: ${err.message}` })
    }
  }
  for (const addr of opts.ping) {
    try {
      const rtt = await node.services.ping.ping(multiaddr(addr))
      emit('ping', { peer_id: addr.split('/p2p/')[1] ?? '', rtt_ms: rtt })
    } catch (err) {
      emit('error', { message: `ping ${addr}: ${err.message}` })
    }
  }

  if (opts.pingEveryMs > 0) {
    // Ping every connected peer periodically, as a keep-alive check the tests can count.
    setInterval(async () => {
      for (const peer of node.getPeers()) {
        try {
          const rtt = await node.services.ping.ping(peer)
          emit('ping', { peer_id: peer.toString(), rtt_ms: rtt })
        } catch (err) {
          emit('error', { message: `ping ${peer}: ${err.message}` })
        }
      }
    }, opts.pingEveryMs)
  }

  if (services.pubsub && opts.publishCount > 0) {
    const topic = opts.topic[0]
    setTimeout(async () => {
      for (let i = 0; i < opts.publishCount; i++) {
        const data = Buffer.alloc(opts.publishSize, 0x61 + (i % 26))
        try {
          await node.services.pubsub.publish(topic, data)
          published++
          emit('published', { topic, size: data.length })
        } catch (err) {
          emit('publish_error', { topic, error: err.message })
        }
        await new Promise((resolve) => setTimeout(resolve, opts.publishIntervalMs))
      }
    }, opts.publishDelayMs)
  }

  // The publishes of --stdin, one line at a time in order, as pubsub_node --stdin does.
  let stdinPublishes = Promise.resolve()
  if (opts.stdin) {
    if (!services.pubsub || opts.topic.length === 0) throw new Error('--stdin needs --router and --topic')
    const topic = opts.topic[0]
    createInterface({ input: process.stdin }).on('line', (line) => {
      stdinPublishes = stdinPublishes.then(async () => {
        const data = Buffer.from(line, 'utf8')
        try {
          await node.services.pubsub.publish(topic, data)
          published++
          emit('published', { topic, size: data.length })
        } catch (err) {
          emit('publish_error', { topic, error: err.message })
        }
      })
    })
  }

  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    emit('summary', { published, received, duplicates: 0, peers: node.getPeers().length })
    await node.stop()
    process.exit(0)
  }
  if (opts.durationS > 0) {
    setTimeout(stop, opts.durationS * 1000)
  } else {
    process.stdin.on('end', () => { stdinPublishes.then(stop) })
    process.stdin.resume()
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err) => {
  emit('error', { message: err.stack ?? String(err) })
  process.exit(1)
})
