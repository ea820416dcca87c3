// A js-libp2p node (TCP, Noise, yamux or mplex) that speaks libp2p's perf protocol (/perf/1.0.0, libp2p/specs
// perf/perf.md) for the perf interop test and benchmark, printing pubsub_node's NDJSON events (docs/cli.md).
// The npm registry serves no @libp2p/perf package for the js-libp2p release pinned here, so the protocol's two
// ends are written here on js-libp2p's stream API; what is measured is js-libp2p's connection stack.
//
//   node js_perf.mjs --listen /ip4/127.0.0.1/tcp/0 --perf-server [--muxer yamux|mplex] [--seed S]
//   node js_perf.mjs --perf ADDR [--perf-upload-bytes N] [--perf-download-bytes N] [--muxer yamux|mplex]
//
// The server runs until SIGTERM or standard input's end and reports each stream it answered as `perf_served`
// (`upload_bytes`, `download_bytes`); the client dials ADDR, reports `perf` (the fields of pubsub_node's) or
// `perf_error`, and exits with status 0 or 1.
import './polyfill.mjs'
import { createHash } from 'node:crypto'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { mplex } from '@libp2p/mplex'
import { generateKeyPairFromSeed, generateKeyPair } from '@libp2p/crypto/keys'
import { multiaddr } from '@multiformats/multiaddr'

const PROTOCOL = '/perf/1.0.0'
const CHUNK = new Uint8Array(64 * 1024)

function parseArgs (argv) {
  const opts = { listen: [], perf: null, upload: 0n, download: 0n, server: false, muxer: 'yamux', seed: null }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    if (flag === '--perf-server') { opts.server = true; continue }
    const value = argv[++i]
    if (value === undefined) throw new Error(`${flag} needs a value`)
    switch (flag) {
      case '--listen': opts.listen.push(value); break
      case '--perf': opts.perf = value; break
      case '--perf-upload-bytes': opts.upload = BigInt(value); break
      case '--perf-download-bytes': opts.download = BigInt(value); break
      case '--muxer': opts.muxer = value; break
      case '--seed': opts.seed = value; break
      default: throw new Error(`unknown flag ${flag}`)
    }
  }
  return opts
}

function emit (event, fields) {
  process.stdout.write(JSON.stringify({ event, time_ms: Date.now(), ...fields }) + '\n')
}

// Sends `count` zero bytes, waiting for the stream to drain whenever it asks to.
async function sendZeros (stream, count) {
  while (count > 0n) {
    const n = count < BigInt(CHUNK.length) ? Number(count) : CHUNK.length
    if (!stream.send(CHUNK.subarray(0, n))) await stream.onDrain()
    count -= BigInt(n)
  }
}

// The server's side of one stream: the request, the upload read to its end, then the answer.
async function answer (stream) {
  let header = new Uint8Array(0)
  let received = 0
  for await (const chunk of stream) {
    let take = 0
    if (header.length < 8) {
      take = Math.min(8 - header.length, chunk.byteLength)
      header = Uint8Array.from([...header, ...chunk.subarray(0, take)])
    }
    received += chunk.byteLength - take
  }
  if (header.length < 8) throw new Error(`perf stream ended after ${header.length} of the header's 8 bytes`)
  const requested = Buffer.from(header).readBigUInt64BE(0)
  await sendZeros(stream, requested)
  await stream.close()
  emit('perf_served', { upload_bytes: received, download_bytes: Number(requested) })
}

// One measurement: the timings as pubsub_node's `perf` event reports them.
async function measure (node, addr, upload, download) {
  const stream = await node.dialProtocol(multiaddr(addr), PROTOCOL)
  const start = performance.now()
  let first = null
  let downloaded = 0n
  const reading = (async () => {
    for await (const chunk of stream) {
      if (first === null) first = performance.now()
      downloaded += BigInt(chunk.byteLength)
    }
  })()
  const header = Buffer.alloc(8)
  header.writeBigUInt64BE(download, 0)
  stream.send(header)
  await sendZeros(stream, upload)
  await stream.close()
  await reading
  const end = performance.now()
  if (downloaded !== download) throw new Error(`the perf server sent ${downloaded} of ${download} bytes`)
  const uploadMs = (first ?? end) - start
  const downloadMs = first === null ? 0 : end - first
  const mbS = (bytes, ms) => (bytes === 0n || ms <= 0 ? 0 : Number(bytes) / 1e6 / (ms / 1000))
  return {
    upload_bytes: Number(upload),
    download_bytes: Number(downloaded),
    upload_ms: uploadMs,
    download_ms: downloadMs,
    total_ms: end - start,
    upload_mb_s: mbS(upload, uploadMs),
    download_mb_s: mbS(downloaded, downloadMs)
  }
}

async function main () {
  const opts = parseArgs(process.argv.slice(2))
  const privateKey = opts.seed !== null
    ? await generateKeyPairFromSeed('Ed25519', createHash('sha256').update(opts.seed, 'utf8').digest())
    : await generateKeyPair('Ed25519')
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: opts.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [opts.muxer === 'mplex' ? mplex() : yamux()]
  })
  if (opts.server) {
    await node.handle(PROTOCOL, (stream) => {
      answer(stream).catch((err) => {
        emit('perf_serve_error', { error: String(err) })
        stream.abort(err)
      })
    })
  }
  await node.start()
  emit('started', { peer_id: node.peerId.toString(), listen_addrs: node.getMultiaddrs().map(String),
    protocols: node.getProtocols() })

  if (opts.perf !== null) {
    const peerId = opts.perf.split('/p2p/')[1]
    let status = 0
    try {
      emit('perf', { peer_id: peerId, ...await measure(node, opts.perf, opts.upload, opts.download) })
    } catch (err) {
      emit('perf_error', { peer_id: peerId, addr: opts.perf, error: String(err) })
      status = 1
    }
    await node.stop()
    process.exit(status)
  }
  const stop = async () => { await node.stop(); process.exit(0) }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.resume()
}

main().catch((err) => {
  emit('error', { message: String(err) })
  process.exit(1)
})
