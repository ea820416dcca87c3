// js-libp2p's published interop suite, @libp2p/interop (pinned by package-lock.json), with our daemon
// (tools/p2pd) in the slot of go's p2pd and js-libp2p behind @libp2p/daemon-server in the js slot, as
// js-libp2p's own runner does (packages/integration-tests/test/interop.ts). It runs the connection, pubsub
// and echo stream suites in every pairing they offer. What a TCP + Noise + yamux/mplex node does not speak
// (TLS, plaintext, WebTransport, WebRTC, DHT, relay) is refused with the suite's UnsupportedError, which it
// reports as skipped. This version declares the gossipsub and hybrid suites with describe.skip; they run
// here: describe.skip is rebound to describe while the pubsub suites are declared.
//
//   LIBP2P_BAZEL_BIN=<bazel-bin> npx mocha --exit --reporter tap interop_suite.mjs
import '../interop/polyfill.mjs'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { createClient } from '@libp2p/daemon-client'
import { createServer } from '@libp2p/daemon-server'
import { floodsub } from '@libp2p/floodsub'
import { gossipsub } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import { connectInteropTests, pubsubInteropTests, streamInteropTests, UnsupportedError } from '@libp2p/interop'
import { mplex } from '@libp2p/mplex'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

const here = path.dirname(fileURLToPath(import.meta.url))
const P2PD = path.join(process.env.LIBP2P_BAZEL_BIN ?? path.join(here, '../../bazel-bin'), 'tools/p2pd/p2pd')

// What neither side here speaks; the suite skips the test.
function checkSupported (options) {
  const unsupported = [
    (options.encryption ?? 'noise') !== 'noise' && `${options.encryption} encryption`,
    (options.transport ?? 'tcp') !== 'tcp' && `the ${options.transport} transport`,
    options.dht === true && 'the DHT',
    options.relay === true && 'circuit relay'
  ].filter(Boolean)
  if (unsupported.length > 0) throw new UnsupportedError(`not supported: ${unsupported.join(', ')}`)
}

// Our daemon, as js-libp2p's runner starts go's p2pd.
async function spawnOurs (options) {
  const args = ['-listen=/ip4/127.0.0.1/tcp/0',
    options.noListen === true ? '-noListenAddrs' : '-hostAddrs=/ip4/127.0.0.1/tcp/0']
  if (options.pubsub === true) args.push('-pubsub', `-pubsubRouter=${options.pubsubRouter ?? 'gossipsub'}`)
  if (options.key != null) args.push(`-id=${options.key}`)
  if (options.muxer != null) args.push(`-muxer=${options.muxer}`)
  const child = spawn(P2PD, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const control = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`p2pd ${args.join(' ')} exited with ${code}: ${stderr}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^Control socket: (.+)$/)
      if (m != null) resolve(multiaddr(m[1]))
    })
  })
  child.removeAllListeners('exit')
  return {
    client: createClient(control),
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }
}

// js-libp2p behind the daemon server, in this process.
async function spawnJs (options) {
  const node = await createLibp2p({
    privateKey: options.key != null ? privateKeyFromProtobuf(readFileSync(options.key)) : undefined,
    addresses: { listen: options.noListen === true ? [] : ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [options.muxer === 'mplex' ? mplex() : yamux()],
    services: {
      identify: identify(),
      ping: ping(),
      ...(options.pubsub === true
        ? { pubsub: options.pubsubRouter === 'floodsub' ? floodsub() : gossipsub({ fallbackToFloodsub: true }) }
        : {})
    }
  })
  const server = createServer(multiaddr('/ip4/127.0.0.1/tcp/0'), node)
  await server.start()
  return {
    client: createClient(server.getMultiaddr()),
    stop: async () => {
      await server.stop()
      await node.stop()
    }
  }
}

const factory = {
  async spawn (options) {
    checkSupported(options)
    return options.type === 'go' ? spawnOurs(options) : spawnJs(options)
  }
}

connectInteropTests(factory)
const skip = describe.skip
describe.skip = describe
pubsubInteropTests(factory)
describe.skip = skip
streamInteropTests(factory)
