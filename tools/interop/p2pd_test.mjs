// tools/p2pd driven by js-libp2p's daemon client (@libp2p/daemon-client, the client @libp2p/interop uses):
// identify, connect, list peers, pubsub (subscribe, publish, subscribers, topics), a stream opened by one
// daemon's client and handled by the other's (an echo), every key type as the daemon's identity, and bad or
// unsupported control requests answered with an ERROR while the daemon goes on serving.
import './polyfill.mjs'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { createClient } from '@libp2p/daemon-client'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { bazelBinary } from './harness.mjs'

const P2PD = bazelBinary('tools/p2pd/p2pd')

// Starts a daemon; resolves once it printed its control socket, with its client.
function startDaemon (args) {
  return new Promise((resolve, reject) => {
    const listen = args.some((a) => a.startsWith('-listen')) ? [] : ['-listen=/ip4/127.0.0.1/tcp/0']
    const child = spawn(P2PD, [...listen, '-hostAddrs=/ip4/127.0.0.1/tcp/0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => { stderr += d })
    child.on('exit', (code) => reject(new Error(`p2pd exited with ${code}: ${stderr}`)))
    const lines = []
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line)
      const m = line.match(/^Control socket: (.+)$/)
      if (m) {
        // The daemon writes a unix path as go does (/unix/tmp/x.sock); js's multiaddr wants it URI-encoded.
        const control = m[1].startsWith('/unix/') ? multiaddr(`/unix/${encodeURIComponent(m[1].slice(5))}`) : multiaddr(m[1])
        resolve({ child, control, client: createClient(control), lines, stop: () => new Promise((resolve) => { child.once('exit', resolve); child.kill('SIGTERM') }) })
      }
    })
  })
}

async function withDaemons (argsList, fn) {
  const daemons = []
  try {
    for (const args of argsList) daemons.push(await startDaemon(args))
    await fn(...daemons)
  } finally {
    for (const d of daemons) d.child.removeAllListeners('exit')
    await Promise.all(daemons.map((d) => d.stop()))
  }
}

async function connect (a, b) {
  const id = await b.client.identify()
  await a.client.connect(id.peerId, id.addrs)
  return id
}

test('identify, connect and list peers', async () => {
  await withDaemons([[], []], async (a, b) => {
    const ida = await a.client.identify()
    assert.ok(ida.addrs.length > 0)
    assert.equal(a.lines[1], `Peer ID: ${ida.peerId.toString()}`)
    assert.deepEqual(await a.client.listPeers(), [])
    const idb = await connect(a, b)
    assert.deepEqual((await a.client.listPeers()).map(String), [idb.peerId.toString()])
    assert.deepEqual((await b.client.listPeers()).map(String), [ida.peerId.toString()])
  })
})

for (const router of ['gossipsub', 'floodsub']) {
  test(`pubsub over ${router}: subscribe, subscribers, publish, topics`, async () => {
    const flags = ['-pubsub', `-pubsubRouter=${router}`, '-gossipsubHeartbeatInitialDelay=100ms']
    await withDaemons([flags, flags], async (a, b) => {
      const idb = await connect(a, b)
      const subscription = await b.client.pubsub.subscribe('test-topic')
      while (!(await a.client.pubsub.getSubscribers('test-topic')).some((p) => p.equals(idb.peerId))) {
        await new Promise((resolve) => setTimeout(resolve, 100))  // Polled, as @libp2p/interop does.
      }
      assert.deepEqual(await b.client.pubsub.getTopics(), ['test-topic'])
      await a.client.pubsub.publish('test-topic', new TextEncoder().encode('test-data'))
      for await (const m of subscription.messages()) {
        assert.equal(new TextDecoder().decode(m.data), 'test-data')
        assert.deepEqual(m.topicIDs ?? m.topics ?? ['test-topic'], ['test-topic'])
        break
      }
      await subscription.cancel()
    })
  })
}

test('a unix control socket (go\'s default kind) serves as the TCP one does', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'p2pd-unix-'))
  try {
    const socket = path.join(dir, 'p2pd.sock')
    await withDaemons([[`-listen=/unix${socket}`, '-pubsub'], ['-pubsub']], async (a, b) => {
      assert.equal(a.lines[0], `Control socket: /unix${socket}`)
      const ida = await a.client.identify()
      await connect(b, a)
      assert.deepEqual((await a.client.listPeers()).map(String), [(await b.client.identify()).peerId.toString()])
      assert.ok(ida.addrs.length > 0)
      // A second daemon cannot take the same socket.
      const r = spawnSync(P2PD, [`-listen=/unix${socket}`], { encoding: 'utf8', timeout: 10000 })
      assert.notEqual(r.status, 0)
      assert.match(r.stderr, /-listen/)
    })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a stream opened through one daemon reaches the handler of the other (echo)', async () => {
  await withDaemons([[], []], async (a, b) => {
    const idb = await connect(a, b)
    await b.client.registerStreamHandler('/echo/1.0.0', async (stream) => {
      for await (const chunk of stream) stream.send(chunk.subarray ? chunk.subarray() : chunk)
      await stream.close()
    })
    const stream = await a.client.openStream(idb.peerId, '/echo/1.0.0')
    stream.send(new TextEncoder().encode('test'))
    let got = ''
    for await (const chunk of stream) {
      got += new TextDecoder().decode(chunk.subarray ? chunk.subarray() : chunk)
      if (got.length >= 4) break
    }
    assert.equal(got, 'test')
    await stream.close()
  })
})

test('every key type is a daemon identity (-id)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'p2pd-keys-'))
  try {
    for (const type of ['Ed25519', 'secp256k1', 'RSA']) {
      const key = await generateKeyPair(type)
      const file = path.join(dir, type)
      writeFileSync(file, privateKeyToProtobuf(key))
      await withDaemons([['-id', file], []], async (a, b) => {
        const id = await a.client.identify()
        assert.equal(id.peerId.toString(), peerIdFromPrivateKey(key).toString())
        await connect(b, a)  // b checks a's identity in the handshake.
        assert.equal((await b.client.listPeers()).map(String)[0], id.peerId.toString())
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

// Sends `bytes` on a fresh control connection; resolves with everything the daemon wrote until it closed.
function rawRequest (control, bytes) {
  return new Promise((resolve, reject) => {
    const [, host, port] = control.toString().match(/^\/ip4\/([^/]+)\/tcp\/(\d+)$/)
    const socket = net.connect(Number(port), host)
    const chunks = []
    socket.on('data', (d) => chunks.push(d))
    socket.on('end', () => { socket.end(); resolve(Buffer.concat(chunks)) })
    socket.on('error', reject)
    socket.write(bytes)
  })
}

// An ERROR response: field 1 (type) = 1, then field 2 (error) holding field 1 (msg).
function errorMessage (response) {
  assert.ok(response.length > 4, `no response: ${response.toString('hex')}`)
  const body = response.subarray(response[0] < 0x80 ? 1 : 2)
  assert.equal(body[0], 0x08)
  assert.equal(body[1], 0x01, `not an ERROR: ${response.toString('hex')}`)
  return body.toString('latin1')
}

test('bad and unsupported control requests: an ERROR, the connection closed, the daemon goes on', async () => {
  await withDaemons([['-pubsub']], async (a) => {
    assert.match(errorMessage(await rawRequest(a.control, Buffer.from([0x03, 0xff, 0xff, 0xff]))), /bad request/)
    assert.match(errorMessage(await rawRequest(a.control, Buffer.from([0x80, 0x00]))), /length prefix/)
    assert.match(errorMessage(await rawRequest(a.control, Buffer.from([0xff, 0xff, 0xff, 0x7f]))), /exceeds/)
    assert.match(errorMessage(await rawRequest(a.control, Buffer.from([0x02, 0x08, 0x04]))), /DHT/)
    assert.match(errorMessage(await rawRequest(a.control, Buffer.from([0x02, 0x08, 0x06]))), /CONNMANAGER/)
    assert.match(errorMessage(await rawRequest(a.control, Buffer.from([0x02, 0x08, 0x01]))), /CONNECT without a peer/)
    await assert.rejects(a.client.dht.put(new Uint8Array([1]), new Uint8Array([2])), /DHT/)
    // Still serving.
    assert.ok((await a.client.identify()).addrs.length > 0)
  })
})

test('bad flags: one line on stderr naming the flag, exit status 2', () => {
  for (const [args, flag] of [[['-tls'], '-tls'], [['-muxer=spdy'], '-muxer'], [['-bogus=1'], '-bogus'],
    [['-pubsubSignStrict=false'], '-pubsubSignStrict'], [['-id', '/nonexistent'], 'key file'],
    [['-gossipsubHeartbeatInterval=soon'], '-gossipsubHeartbeatInterval'], [['-listen=/dns4/localhost/tcp/1'], '-listen']]) {
    const r = spawnSync(P2PD, args, { encoding: 'utf8', timeout: 10000 })
    assert.notEqual(r.status, 0, `${args.join(' ')}: status ${r.status}`)
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
    assert.ok(r.stderr.includes(flag), `${args.join(' ')}: ${r.stderr}`)
  }
})
