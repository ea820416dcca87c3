// Our node as a secp256k1 or RSA peer (docs/cli.md, --key), against js-libp2p: js accepts its Noise
// handshake (the payload signature), verifies its signed peer record in identify, and takes its gossipsub
// messages (signed with the key, which RSA messages carry in their key field). The keys are js-libp2p's own,
// written as libp2p PrivateKey protobufs. js-libp2p's peer ids do not take ECDSA keys (@libp2p/peer-id throws
// UnsupportedKeyTypeError), so no js node can meet an ECDSA peer, and @libp2p/crypto encodes an ECDSA public
// key in a structure of its own rather than go's PKIX. For ECDSA the node loads js's key file (SEC1 DER, as
// go writes it too) and its peer id is go's: the SHA-256 multihash of the PKIX encoding of that key.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, createPublicKey } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')

// base58btc of `bytes`, as peer ids are written.
function base58btc (bytes) {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'))
  let out = ''
  while (n > 0n) { out = alphabet[Number(n % 58n)] + out; n /= 58n }
  for (const b of bytes) { if (b !== 0) break; out = '1' + out }
  return out
}

test('ours as an ECDSA peer from a js key file: its peer id is the SHA-256 multihash of the PKIX public key', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'key-types-'))
  try {
    const key = await generateKeyPair('ECDSA')
    const file = path.join(dir, 'key')
    writeFileSync(file, privateKeyToProtobuf(key))
    const pkix = createPublicKey({ key: key.publicKey.jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' })
    assert.ok(pkix.length < 128)
    const publicKeyProtobuf = Buffer.concat([Buffer.from([0x08, 0x03, 0x12, pkix.length]), pkix])
    const digest = createHash('sha256').update(publicKeyProtobuf).digest()
    const expected = base58btc(Buffer.concat([Buffer.from([0x12, 0x20]), digest]))
    assert.match(expected, /^Qm/)
    const ours = new Proc('ours', NODE, ['--key', file, '--topic', 'keys', '--stdin'])
    try {
      const started = await ours.event('started')
      assert.equal(started.peer_id, expected)
    } finally {
      await ours.stop()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

for (const type of ['secp256k1', 'RSA']) {
  test(`ours as a ${type} peer: js accepts its handshake, its peer record and its messages`, { timeout: 60000 }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'key-types-'))
    const procs = []
    try {
      const key = await generateKeyPair(type)
      const file = path.join(dir, 'key')
      writeFileSync(file, privateKeyToProtobuf(key))
      const id = peerIdFromPrivateKey(key).toString()

      const ours = new Proc('ours', NODE, ['--key', file, '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'keys', '--stdin'])
      procs.push(ours)
      const started = await ours.event('started')
      assert.equal(started.peer_id, id)
      const js = Proc.js('js', ['--seed', `keys-${type}`, '--listen', '/ip4/127.0.0.1/tcp/0', '--router', 'gossipsub',
        '--topic', 'keys', '--dial', started.listen_addrs[0]])
      procs.push(js)
      const jsStarted = await js.event('started')

      const connected = await js.waitFor((e) => e.event === 'connected' && e.peer_id === id, 'js connected to ours')
      assert.equal(connected.security, '/noise')
      const identified = await js.waitFor((e) => e.event === 'identified' && e.peer_id === id, 'js identified ours')
      assert.ok(identified.signed_record_addrs !== null, `js did not verify our signed peer record: ${JSON.stringify(identified)}`)
      assert.ok(identified.signed_record_addrs.length > 0)

      await ours.waitFor((e) => e.event === 'peer_subscribed' && e.peer_id === jsStarted.peer_id && e.subscribed, 'js subscription')
      await js.waitFor((e) => e.event === 'peer_subscribed' && e.peer_id === id && e.subscribed, 'our subscription')
      ours.child.stdin.write(`signed by ${type}\n`)
      const m = await js.waitFor((e) => e.event === 'message' && e.from === id, 'our message at js')
      assert.equal(m.topic, 'keys')
      const published = await ours.event('published')
      assert.equal(published.topic, 'keys')
    } finally {
      await Promise.all(procs.map((p) => p.stop()))
      rmSync(dir, { recursive: true, force: true })
    }
  })
}
