// The node program's command line (docs/cli.md): bad flags and values fail with a one-line error
// naming the flag and exit status 2 before anything starts; `--direct` (an extension) makes a gossipsub
// direct peer that the node dials by itself and never puts in its mesh.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')

const badFlags = [
  [['--bogus', '1'], '--bogus'],
  [['--listen'], '--listen'],
  [['--listen', '/ip4/1.2.3.4/tcp/notaport'], '--listen'],
  [['--dial', 'not-a-multiaddr'], '--dial'],
  [['--ping', '/ip4/127.0.0.1/tcp/1'], '--ping'],
  [['--muxer', 'spdy'], '--muxer'],
  [['--router', 'randomsub'], '--router'],
  [['--sign', 'lax'], '--sign'],
  [['--msg-id', 'md5'], '--msg-id'],
  [['--validation-workers', 'many'], '--validation-workers'],
  [['--validation-workers', '257'], '--validation-workers'],
  [['--sign', 'none', '--msg-id', 'go'], '--msg-id'],
  [['--sign', 'none', '--msg-id', 'js'], '--msg-id'],
  [['--publish-count', '-1'], '--publish-count'],
  [['--publish-size', 'many'], '--publish-size'],
  [['--duration-s', '1e9'], '--duration-s'],
  [['--topic', ''], '--topic'],
  [['--publish-count', '1'], '--publish-topic'],
  [['--publish-count', '4', '--topic', 't', '--batch', '0'], '--batch'],
  [['--publish-count', '4', '--topic', 't', '--batch', 'all'], '--batch'],
  [['--topic', 't', '--batch', '4'], '--batch'],
  [['--params', '/dev/null', '--node-id', '0', '--batch', '4'], '--batch'],
  [['--direct', '/ip4/127.0.0.1/tcp/1'], '--direct'],
  [['--router', 'floodsub', '--px'], '--px'],
  [['--router', 'floodsub', '--direct', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'], '--direct'],
  [['--key', '/nonexistent/key'], '--key'],
  [['--node-id', '1'], '--node-id'],
  [['--base-port', '19000'], '--base-port'],
  [['--params', '/nonexistent/params.json', '--node-id', '0'], '--params'],
  [['--params', '/dev/null', '--node-id', '0', '--topic', 't'], '--topic'],
  [['--params', '/dev/null', '--node-id', '0', '--stdin'], '--stdin'],
  [['--key', '/dev/null'], '--key'],
  [['--trace-remote', '/ip4/127.0.0.1/tcp/1'], '--trace-remote'],
  [['--trace-json', ''], '--trace-json'],
  [['--params', '/dev/null', '--node-id', '0', '--trace-pb', 'x.pb'], '--trace-pb'],
  [['--metrics', '/dns4/localhost/tcp/9100'], '--metrics'],
  [['--metrics', '/ip4/127.0.0.1/udp/9100'], '--metrics'],
  [['--metrics', '/ip4/127.0.0.1/tcp/9100/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'], '--metrics'],
  [['--params', '/dev/null', '--node-id', '0', '--metrics', '/ip4/127.0.0.1/tcp/0'], '--metrics'],
  [['--log-level', 'verbose'], '--log-level'],
  [['--log-level', 'WARN'], '--log-level'],
  [['--log-level'], '--log-level'],
  [['--perf', '/ip4/127.0.0.1/tcp/1'], '--perf'],
  [['--perf-upload-bytes', '5'], '--perf-upload-bytes'],
  [['--perf-download-bytes', '5'], '--perf-download-bytes'],
  [['--perf', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA', '--perf-download-bytes', '-1'], '--perf-download-bytes'],
  [['--perf-max-bytes', '5'], '--perf-max-bytes'],
  [['--perf-server', '--perf-max-bytes', 'lots'], '--perf-max-bytes'],
  [['--params', '/dev/null', '--node-id', '0', '--perf-server'], '--perf-server'],
  [['--allow-peer', 'not-a-peer-id'], '--allow-peer'],
  [['--deny-peer', ''], '--deny-peer'],
  [['--allow-cidr', '10.0.0.0/33'], '--allow-cidr'],
  [['--deny-cidr', 'example.com/8'], '--deny-cidr'],
  [['--params', '/dev/null', '--node-id', '0', '--deny-cidr', '10.0.0.0/8'], '--deny-cidr'],
  [['--swarm-key', '/nonexistent/swarm.key'], '--swarm-key'],
  [['--swarm-key', '/dev/null'], '--swarm-key'],
  [['--allowed-topic', ''], '--allowed-topic'],
  [['--topic', 't', '--allowed-topic', 'u'], '--topic'],
  [['--allowed-topic', 'u', '--publish-topic', 't', '--publish-count', '1'], '--publish-topic']
]

test('bad flags and values: one line on stderr naming the flag, exit status 2, nothing on stdout', () => {
  for (const [args, flag] of badFlags) {
    const r = spawnSync(NODE, args, { encoding: 'utf8', timeout: 10000 })
    assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status}, stderr ${r.stderr}`)
    assert.equal(r.stdout, '', `${args.join(' ')} printed ${r.stdout}`)
    const lines = r.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`)
    assert.ok(lines[0].includes(flag), `${args.join(' ')}: "${lines[0]}" does not name ${flag}`)
  }
})

// --help and --version: the documented exception to "stdout is NDJSON": plain text, exit status 0, no event.
test('--help prints one line for each flag of docs/cli.md, and no other, on stdout, exit status 0', () => {
  const r = spawnSync(NODE, ['--topic', 'x', '--help'], { encoding: 'utf8', timeout: 10000 })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '')
  assert.match(r.stdout, /^Usage: pubsub_node /)
  const helpFlags = r.stdout.split('\n').filter((l) => l.startsWith('  --')).map((l) => l.trim().split(' ')[0])
  assert.equal(new Set(helpFlags).size, helpFlags.length, r.stdout)
  assert.deepEqual([...helpFlags].sort(), documentedFlags().sort())
})

test('--version prints the version of libp2p/version.h, which CHANGELOG.md lists, exit status 0', () => {
  const r = spawnSync(NODE, ['--version'], { encoding: 'utf8', timeout: 10000 })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '')
  const version = readRepoFile('libp2p/version.h').match(/kVersion = "([^"]+)"/)[1]
  assert.match(version, /^\d+\.\d+\.\d+$/)
  assert.equal(r.stdout, `pubsub_node ${version}\n`)
  assert.ok(readRepoFile('CHANGELOG.md').split('\n').some((l) => l.startsWith(`## ${version}`)),
    `CHANGELOG.md has no "## ${version}" section`)
})

function readRepoFile (relative) {
  return readFileSync(new URL('../../' + relative, import.meta.url), 'utf8')
}

// The flags named in the first column of the flag table of docs/cli.md.
function documentedFlags () {
  const doc = readRepoFile('docs/cli.md')
  const table = doc.slice(doc.indexOf('## Flags'), doc.indexOf('## Output'))
  const flags = []
  for (const line of table.split('\n')) {
    const firstCell = line.match(/^\|((?:[^|\\]|\\.)*)\|/)
    if (firstCell) flags.push(...(firstCell[1].match(/--[a-z][a-z0-9-]*/g) ?? []))
  }
  return flags
}

// Runs the node until its standard input ends (at once): its events.
function runBriefly (args) {
  const r = spawnSync(NODE, [...args, '--topic', 'x', '--stdin'], { encoding: 'utf8', input: '', timeout: 10000 })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
}

test('--key: the node is the peer of an Ed25519 key file that js-libp2p wrote; a bad or doubled key is a usage error', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'node-key-'))
  try {
    const key = await generateKeyPair('Ed25519')
    const file = path.join(dir, 'key')
    writeFileSync(file, privateKeyToProtobuf(key))
    const events = runBriefly(['--key', file])
    assert.equal(events[0].event, 'started')
    assert.equal(events[0].peer_id, peerIdFromPrivateKey(key).toString())

    const garbage = path.join(dir, 'garbage')
    writeFileSync(garbage, 'not a key')
    const cut = path.join(dir, 'cut')
    writeFileSync(cut, privateKeyToProtobuf(key).subarray(0, 40))
    for (const args of [['--key', garbage], ['--key', cut], ['--key', file, '--seed', 's']]) {
      const r = spawnSync(NODE, args, { encoding: 'utf8', timeout: 10000 })
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, /--key/)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

// Failures the node survives are events of their own; "error" stays fatal.
test('a failed --dial and a failed --ping are reported and the node goes on', { timeout: 60000 }, async () => {
  const nobody = '/ip4/127.0.0.1/tcp/1'
  const peer = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'
  const a = new Proc('a', NODE, ['--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 't',
    '--dial', nobody, '--ping', `${nobody}/p2p/${peer}`])
  try {
    const dialError = await a.event('dial_error')
    assert.equal(dialError.addr, nobody)
    assert.match(dialError.error, /\S/)
    const pingError = await a.event('ping_error')
    assert.equal(pingError.peer_id, peer)
    assert.equal(pingError.addr, `${nobody}/p2p/${peer}`)
    // Still running: another node connects to it and pings it.
    const started = a.events[0]
    const b = new Proc('b', NODE, ['--ping', started.listen_addrs[0], '--duration-s', '30'])
    try {
      const ping = await b.event('ping')
      assert.equal(ping.peer_id, started.peer_id)
    } finally {
      await b.stop()
    }
  } finally {
    await a.stop()
  }
  assert.equal(a.child.exitCode, 0, a.stderr)
  assert.equal(a.events.filter((e) => e.event === 'error').length, 0, JSON.stringify(a.events))
  assert.equal(a.events.at(-1).event, 'summary')
})

test('--params with a bad script: one line on stderr naming the instruction, exit status 2', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'node-params-'))
  try {
    const file = path.join(dir, 'params.json')
    writeFileSync(file, JSON.stringify({ script: [{ type: 'connect', connectTo: [1] }, { type: 'publish', topicID: 't' }] }))
    const r = spawnSync(NODE, ['--params', file, '--node-id', '0'], { encoding: 'utf8', timeout: 10000 })
    assert.equal(r.status, 2, r.stderr)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /--params: .*params\.json: script\[1\]\.messageID: missing/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

// The harness's log lines, from two nodes in the local mode: node 1 dials node 0 (before it listens, too)
// and publishes once the clock says so; node 0 logs the copy it receives.
test('--params: two nodes run a script and log the harness lines', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'node-params-'))
  const procs = []
  try {
    const file = path.join(dir, 'params.json')
    writeFileSync(file, JSON.stringify({
      script: [
        // A node whose port would be past 65535: a warning, and the script goes on.
        { type: 'ifNodeIDEquals', nodeID: 1, instruction: { type: 'connect', connectTo: [70000, 0] } },
        { type: 'subscribeToTopic', topicID: 't' },
        { type: 'waitUntil', elapsedSeconds: 3 },
        { type: 'ifNodeIDEquals', nodeID: 1, instruction: { type: 'publish', messageID: 258, messageSizeBytes: 100, topicID: 't' } }
      ]
    }))
    const start = String(Date.now())
    const common = ['--params', file, '--base-port', '19800', '--start-time-ms', start, '--duration-s', '30',
      '--log-level', 'debug']
    const lines = [[], []]
    for (const id of [1, 0]) {
      const p = new Proc(`node${id}`, NODE, [...common, '--node-id', String(id)])
      p.child.stdout.on('data', (d) => lines[id].push(d.toString()))
      procs.push(p)
    }
    const node0 = procs[1]
    const received = await node0.waitFor((e) => e.msg === 'Received Message', 'the message at node 0')
    assert.equal(received.id, '258')
    assert.equal(received.topic, 't')
    assert.equal(received.from, '12D3KooWPjceQrSwdWXPyLLeABRXmuqt69Rg3sBYbU1Nft9HyQ6X')  // Node 1, as the harness derives it.
    const peerId = node0.events.find((e) => e.msg === 'PeerID')
    assert.deepEqual([peerId.id, peerId.node_id], ['12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN', 0])
    assert.match(received.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    assert.ok(Date.parse(received.time) >= Number(start) + 3000, 'published before its waitUntil')
    assert.ok(lines[0].join('').includes('"msg":"Received Message"'), 'compact JSON, as the harness searches it')
    // The logs (--log-level debug) go to stderr only: stdout keeps the harness's lines.
    assert.ok(node0.events.every((e) => 'time' in e && !('level' in e)), JSON.stringify(node0.events))
    await Promise.all(procs.map((p) => p.stop()))
    assert.ok((await logLines(node0)).some((l) => l.component === 'host' && l.msg === 'connection up'), node0.stderr)
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--px is taken with gossipsub: the node starts and ends cleanly', () => {
  const r = spawnSync(NODE, ['--px', '--topic', 'x', '--listen', '/ip4/127.0.0.1/tcp/0', '--duration-s', '1'],
    { encoding: 'utf8', timeout: 10000 })
  assert.equal(r.status, 0, r.stderr)
  const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.equal(events[0].event, 'started')
  assert.equal(events.at(-1).event, 'summary')
})

test('--direct: the node dials its direct peer, gets its messages, and never grafts it', { timeout: 60000 }, async () => {
  const procs = []
  try {
    const b = new Proc('b', NODE, ['--seed', 'direct-b', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'd',
      '--publish-count', '3', '--publish-interval-ms', '100', '--publish-delay-ms', '4000'])
    procs.push(b)
    const bStarted = await b.event('started')
    const a = new Proc('a', NODE, ['--seed', 'direct-a', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'd',
      '--direct', bStarted.listen_addrs[0]])
    procs.push(a)
    const connected = await a.event('connected')
    assert.equal(connected.peer_id, bStarted.peer_id)
    assert.equal(connected.direction, 'outbound')
    await a.waitFor(() => a.events.filter((e) => e.event === 'message' && e.from === bStarted.peer_id).length === 3,
      'the 3 messages of the direct peer')
    assert.ok(!a.events.some((e) => e.event === 'graft'), `a grafted its direct peer: ${JSON.stringify(a.events)}`)
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
})

// Each message's id under --msg-id go is the author's peer id bytes followed by the seqno.
test('--msg-id go: message ids are from and seqno, as go computes them', { timeout: 60000 }, async () => {
  const procs = []
  try {
    const b = new Proc('b', NODE, ['--seed', 'msgid-b', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'm',
      '--msg-id', 'go', '--stdin'])
    procs.push(b)
    const bStarted = await b.event('started')
    const a = new Proc('a', NODE, ['--seed', 'msgid-a', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'm',
      '--msg-id', 'go', '--dial', bStarted.listen_addrs[0]])
    procs.push(a)
    const aStarted = await a.event('started')
    await b.waitFor((e) => e.event === 'peer_subscribed' && e.peer_id === aStarted.peer_id, 'the subscription of a')
    b.child.stdin.write('hello go ids\n')
    const published = await b.event('published')
    const got = await a.waitFor((e) => e.event === 'message' && e.from === bStarted.peer_id, 'the message of b')
    assert.equal(got.id, published.id)
    assert.equal(got.id, peerIdHex(bStarted.peer_id) + got.seqno)
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
})

// Signatures checked on two worker threads and on the event loop: every message arrives, in the order sent.
test('--validation-workers: messages checked on workers arrive complete and in order', { timeout: 60000 }, async () => {
  const procs = []
  try {
    const b = new Proc('b', NODE, ['--seed', 'workers-b', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'w',
      '--router', 'floodsub', '--validation-workers', '2'])
    procs.push(b)
    const bStarted = await b.event('started')
    const a = new Proc('a', NODE, ['--seed', 'workers-a', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'w',
      '--router', 'floodsub', '--validation-workers', '0', '--dial', bStarted.listen_addrs[0],
      '--publish-count', '300', '--publish-size', '200', '--publish-interval-ms', '0', '--publish-delay-ms', '500'])
    procs.push(a)
    const aStarted = await a.event('started')
    await b.waitFor(() => b.events.filter((e) => e.event === 'message' && e.from === aStarted.peer_id).length === 300,
      'the 300 messages of a')
    const seqnos = b.events.filter((e) => e.event === 'message').map((e) => BigInt('0x' + e.seqno))
    for (let i = 1; i < seqnos.length; i++) assert.ok(seqnos[i] > seqnos[i - 1], `out of order at ${i}`)
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
})

// Anonymous messages are told apart by their content: generated payloads differ between nodes, so a node that
// hears two publishers gets every message of both.
test('--sign none: two nodes publishing as many messages reach a third, all of them', { timeout: 60000 }, async () => {
  const procs = []
  try {
    const c = new Proc('c', NODE, ['--seed', 'anon-c', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'n',
      '--sign', 'none', '--router', 'floodsub'])
    procs.push(c)
    const cStarted = await c.event('started')
    const publishers = ['anon-a', 'anon-b'].map((seed) => new Proc(seed, NODE, ['--seed', seed, '--listen',
      '/ip4/127.0.0.1/tcp/0', '--topic', 'n', '--sign', 'none', '--router', 'floodsub', '--dial',
      cStarted.listen_addrs[0], '--publish-count', '3', '--publish-interval-ms', '50', '--publish-delay-ms', '3000']))
    procs.push(...publishers)
    await c.waitFor(() => c.events.filter((e) => e.event === 'message').length === 6, 'six messages', 20000)
    assert.equal(new Set(c.events.filter((e) => e.event === 'message').map((e) => e.id)).size, 6)
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
})

// --batch: the messages go out in batches, and every one of them arrives.
test('--batch 3: six messages in two batches reach a peer, each reported as published', { timeout: 60000 }, async () => {
  const procs = []
  try {
    const b = new Proc('b', NODE, ['--seed', 'batch-b', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'bt'])
    procs.push(b)
    const bStarted = await b.event('started')
    const a = new Proc('a', NODE, ['--seed', 'batch-a', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'bt',
      '--dial', bStarted.listen_addrs[0], '--publish-count', '6', '--batch', '3', '--publish-interval-ms', '100',
      '--publish-delay-ms', '3000'])
    procs.push(a)
    await b.waitFor(() => b.events.filter((e) => e.event === 'message').length === 6, 'six messages', 20000)
    await a.waitFor(() => a.events.filter((e) => e.event === 'published').length === 6, 'six published events')
    const published = a.events.filter((e) => e.event === 'published').map((e) => e.id)
    assert.deepEqual(new Set(b.events.filter((e) => e.event === 'message').map((e) => e.id)), new Set(published))
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
})

// The multihash bytes of a base58btc peer id, as hex.
function peerIdHex (peerId) {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
  let n = 0n
  for (const ch of peerId) n = n * 58n + BigInt(alphabet.indexOf(ch))
  let hex = n.toString(16)
  if (hex.length % 2) hex = '0' + hex
  const zeros = peerId.match(/^1*/)[0].length
  return '00'.repeat(zeros) + hex
}

// The lines a process wrote on stderr, once it has ended and stderr was read to its end: the JSON ones parsed,
// each checked for the keys every log line has; the others (the program's own diagnostics) left out.
async function logLines (proc) {
  if (!proc.child.stderr.closed) await new Promise((resolve) => proc.child.stderr.on('close', resolve))
  const lines = []
  for (const line of proc.stderr.split('\n')) {
    if (!line.startsWith('{')) continue
    const l = JSON.parse(line)
    assert.match(l.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, line)
    assert.ok(['trace', 'debug', 'info', 'warn', 'error'].includes(l.level), line)
    assert.equal(typeof l.component, 'string', line)
    assert.equal(typeof l.msg, 'string', line)
    lines.push(l)
  }
  return lines
}

// --log-level debug: the library's logs as JSON lines on stderr, naming the peer (and the topic) of each;
// standard output keeps its events only.
test('--log-level debug: two nodes that connect and mesh log it on stderr, with peers and topics', { timeout: 60000 }, async () => {
  const procs = []
  try {
    const a = new Proc('a', NODE, ['--seed', 'log-a', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'logs',
      '--log-level', 'debug'])
    procs.push(a)
    const aStarted = await a.event('started')
    const b = new Proc('b', NODE, ['--seed', 'log-b', '--topic', 'logs', '--dial', aStarted.listen_addrs[0],
      '--log-level', 'debug'])
    procs.push(b)
    const bStarted = await b.event('started')
    await a.event('graft')
    await b.event('graft')
    await Promise.all(procs.map((p) => p.stop()))
    const [aLogs, bLogs] = [await logLines(a), await logLines(b)]
    const find = (logs, component, msg, peer) =>
      logs.find((l) => l.component === component && l.msg === msg && l.peer === peer)
    const aUp = find(aLogs, 'host', 'connection up', bStarted.peer_id)
    assert.ok(aUp, `a logged no connection up for b: ${a.stderr}`)
    assert.equal(aUp.level, 'debug')
    assert.equal(aUp.direction, 'inbound')
    const bUp = find(bLogs, 'host', 'connection up', aStarted.peer_id)
    assert.ok(bUp, `b logged no connection up for a: ${b.stderr}`)
    assert.equal(bUp.direction, 'outbound')
    assert.equal(bUp.remote_addr, aStarted.listen_addrs[0].replace(/\/p2p\/.*$/, ''))
    const grafted = find(aLogs, 'gossipsub', 'mesh: grafted', bStarted.peer_id)
    assert.ok(grafted, `a logged no graft of b: ${a.stderr}`)
    assert.equal(grafted.topic, 'logs')
    // Standard output: events only, as without logs.
    for (const p of procs) assert.ok(p.events.every((e) => typeof e.event === 'string' && !('level' in e)))
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
})

// The default level (warn): a node that runs alone writes nothing on stderr; `off` silences the logs.
test('--log-level: the default and off write nothing on stderr for a node on its own', () => {
  for (const extra of [[], ['--log-level', 'off'], ['--log-level', 'trace']]) {
    const r = spawnSync(NODE, ['--topic', 'x', '--listen', '/ip4/127.0.0.1/tcp/0', '--duration-s', '1', ...extra],
      { encoding: 'utf8', timeout: 10000 })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stderr, '', extra.join(' '))
  }
})

// --gossipsub-params FILE: go-libp2p-pubsub's GossipSubParams (bare, as test-plans writes them, or inside
// {"GossipSubParams": ...} with PeerScoreParams and PeerScoreThresholds); durations in nanoseconds.
function withParamsFiles (files, body) {
  const dir = mkdtempSync(path.join(tmpdir(), 'gossipsub-params-'))
  try {
    const paths = {}
    for (const [name, content] of Object.entries(files)) {
      paths[name] = path.join(dir, name + '.json')
      writeFileSync(paths[name], typeof content === 'string' ? content : JSON.stringify(content))
    }
    return body(paths)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('--gossipsub-params with a bad file: one line on stderr naming the field, exit status 2', () => {
  withParamsFiles({
    unknown: { GossipSubParams: { Dhigh: 3 } },
    wrongType: { HeartbeatInterval: '1s' },
    invalid: { D: 6, Dlo: 7 },
    codeOnly: { PeerScoreParams: { AppSpecificScore: 1 } },
    notJson: '{"D": 6,'
  }, (files) => {
    const cases = [
      [['--gossipsub-params', files.unknown], 'GossipSubParams.Dhigh'],
      [['--gossipsub-params', files.wrongType], 'HeartbeatInterval'],
      [['--gossipsub-params', files.invalid], 'Dlo'],
      [['--gossipsub-params', files.codeOnly], 'PeerScoreParams.AppSpecificScore'],
      [['--gossipsub-params', files.notJson], files.notJson],
      [['--gossipsub-params', '/nonexistent/params.json'], '/nonexistent/params.json'],
      [['--router', 'floodsub', '--gossipsub-params', files.invalid], '--gossipsub-params']
    ]
    for (const [args, name] of cases) {
      const r = spawnSync(NODE, [...args, '--duration-s', '1'], { encoding: 'utf8', timeout: 10000 })
      assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status}, stderr ${r.stderr}`)
      assert.equal(r.stdout, '', `${args.join(' ')} printed ${r.stdout}`)
      const lines = r.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`)
      assert.ok(lines[0].includes('--gossipsub-params'), `"${lines[0]}" does not name the flag`)
      assert.ok(lines[0].includes(name), `"${lines[0]}" does not name ${name}`)
    }
  })
})

test('--gossipsub-params: go fields we do not implement are a warning line each, and the node runs', () => {
  withParamsFiles({
    params: {
      GossipSubParams: { SlowHeartbeatWarning: 0.1, MaxIDontWantLength: 10, HeartbeatInterval: 500000000 },
      PeerScoreParams: { SeenMsgTTL: 120000000000, Topics: { x: { TopicWeight: 1 } } },
      PeerScoreThresholds: { GossipThreshold: -10, PublishThreshold: -20, GraylistThreshold: -30 }
    }
  }, (files) => {
    const r = spawnSync(NODE, ['--gossipsub-params', files.params, '--topic', 'x', '--listen', '/ip4/127.0.0.1/tcp/0',
      '--duration-s', '1'], { encoding: 'utf8', timeout: 10000 })
    assert.equal(r.status, 0, r.stderr)
    const warnings = r.stderr.trimEnd().split('\n')
    assert.equal(warnings.length, 3, r.stderr)
    for (const [i, field] of ['GossipSubParams.SlowHeartbeatWarning', 'GossipSubParams.MaxIDontWantLength',
      'PeerScoreParams.SeenMsgTTL'].entries()) {
      assert.ok(warnings[i].startsWith('pubsub_node: warning: --gossipsub-params: ' + field + ': '), warnings[i])
    }
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    assert.equal(events[0].event, 'started')
    assert.equal(events.at(-1).event, 'summary')
  })
})

// A hub that two peers dial and graft keeps both in its mesh with go's defaults (D = 6), and only one with
// D = Dlo = Dhi = 1 from the file (it answers the other GRAFT with a PRUNE, or prunes at its heartbeat).
test('--gossipsub-params: D = Dlo = Dhi = 1 keeps one peer in the mesh, where the defaults keep two', { timeout: 60000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gossipsub-params-'))
  const file = path.join(dir, 'd1.json')
  writeFileSync(file, JSON.stringify({ D: 1, Dlo: 1, Dhi: 1, Dout: 0, Dscore: 1, Dlazy: 1,
    HeartbeatInitialDelay: 100000000, HeartbeatInterval: 200000000 }))
  const procs = []
  // The hub's mesh for topic m, from its graft and prune events, once both peers are subscribed and a few
  // heartbeats (ours and theirs) have passed.
  const meshOfHub = async (name, extraArgs) => {
    const hub = new Proc(name, NODE, ['--seed', name, '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'm', ...extraArgs])
    procs.push(hub)
    const started = await hub.event('started')
    for (const peer of ['b', 'c']) {
      procs.push(new Proc(name + '-' + peer, NODE, ['--seed', name + '-' + peer, '--listen', '/ip4/127.0.0.1/tcp/0',
        '--topic', 'm', '--dial', started.listen_addrs[0]]))
    }
    await hub.waitFor(() => hub.events.filter((e) => e.event === 'peer_subscribed').length === 2, 'two subscribed peers')
    await hub.event('graft')
    await new Promise((resolve) => setTimeout(resolve, 2500))
    const mesh = new Set()
    for (const e of hub.events) {
      if (e.event === 'graft') mesh.add(e.peer_id)
      if (e.event === 'prune') mesh.delete(e.peer_id)
    }
    return mesh.size
  }
  try {
    const [d1, defaults] = await Promise.all([meshOfHub('params-d1', ['--gossipsub-params', file]),
      meshOfHub('params-default', [])])
    assert.equal(d1, 1)
    assert.equal(defaults, 2)
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--trace-json to a file that cannot be created: an error event naming the flag, exit status 1', () => {
  const r = spawnSync(NODE, ['--topic', 'x', '--stdin', '--trace-json', '/nonexistent/dir/trace.json'],
    { encoding: 'utf8', input: '', timeout: 10000 })
  assert.equal(r.status, 1, r.stderr)
  const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
  assert.equal(events.length, 1, r.stdout)
  assert.equal(events[0].event, 'error')
  assert.ok(events[0].message.includes('--trace-json'), r.stdout)
})

test('--metrics serves the Prometheus exposition over HTTP (metrics_listening says where); a port in use is an error event, exit status 1', async (t) => {
  const a = new Proc('a', NODE, ['--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'x', '--metrics', '/ip4/127.0.0.1/tcp/0'])
  t.after(() => a.stop())
  await a.event('started')
  const listening = await a.event('metrics_listening')
  assert.equal(a.events.findIndex((e) => e.event === 'metrics_listening'), a.events.findIndex((e) => e.event === 'started') + 1)
  const m = /^\/ip4\/127\.0\.0\.1\/tcp\/(\d+)$/.exec(listening.addr)
  assert.ok(m, listening.addr)
  const r = await fetch(`http://127.0.0.1:${m[1]}/metrics`)
  assert.equal(r.status, 200)
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await r.text()
  assert.match(text, /^# TYPE gossipsub_msg_delivered_total counter$/m)
  assert.match(text, /^gossipsub_topic_subscription_status\{topic="x"\} 1$/m)
  assert.equal((await fetch(`http://127.0.0.1:${m[1]}/other`)).status, 404)

  const busy = spawnSync(NODE, ['--topic', 'x', '--stdin', '--metrics', listening.addr], { encoding: 'utf8', input: '', timeout: 10000 })
  assert.equal(busy.status, 1, busy.stderr)
  const events = busy.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
  const error = events.find((e) => e.event === 'error')
  assert.ok(error && error.message.includes('--metrics'), busy.stdout)
})

// Runs the node until it exits by itself: its exit status and events.
async function runToExit (name, args) {
  const p = new Proc(name, NODE, args)
  const status = await p.exit(30000)
  return { status, events: p.events, stderr: p.stderr }
}

test('--perf against --perf-server: the counts each way, the cap, and a peer that does not answer perf', { timeout: 60000 }, async () => {
  const server = new Proc('server', NODE, ['--listen', '/ip4/127.0.0.1/tcp/0', '--perf-server', '--perf-max-bytes', '1000000'])
  const plain = new Proc('plain', NODE, ['--listen', '/ip4/127.0.0.1/tcp/0'])
  try {
    const started = await server.event('started')
    assert.ok(started.protocols.includes('/perf/1.0.0'), JSON.stringify(started.protocols))
    const plainStarted = await plain.event('started')
    assert.ok(!plainStarted.protocols.includes('/perf/1.0.0'), JSON.stringify(plainStarted.protocols))

    const ok = await runToExit('client', ['--perf', started.listen_addrs[0],
      '--perf-upload-bytes', '300000', '--perf-download-bytes', '1000000'])
    assert.equal(ok.status, 0, ok.stderr)
    const perf = ok.events.find((e) => e.event === 'perf')
    assert.ok(perf, JSON.stringify(ok.events))
    assert.equal(perf.peer_id, started.peer_id)
    assert.equal(perf.upload_bytes, 300000)
    assert.equal(perf.download_bytes, 1000000)
    assert.ok(perf.upload_ms > 0 && perf.download_ms > 0, JSON.stringify(perf))
    assert.ok(Math.abs(perf.total_ms - perf.upload_ms - perf.download_ms) < 0.01, JSON.stringify(perf))
    assert.ok(perf.upload_mb_s > 0 && perf.download_mb_s > 0, JSON.stringify(perf))
    assert.equal(ok.events.at(-1).event, 'summary')

    // Nothing either way is a valid measurement too.
    const empty = await runToExit('empty', ['--perf', started.listen_addrs[0]])
    assert.equal(empty.status, 0, empty.stderr)
    const none = empty.events.find((e) => e.event === 'perf')
    assert.equal(none.upload_bytes, 0)
    assert.equal(none.download_bytes, 0)
    assert.equal(none.download_mb_s, 0)

    for (const [name, addr, args] of [
      ['over the cap', started.listen_addrs[0], ['--perf-download-bytes', '1000001']],
      ['no perf server', plainStarted.listen_addrs[0], ['--perf-upload-bytes', '10']]
    ]) {
      const failed = await runToExit(name, ['--perf', addr, ...args])
      assert.equal(failed.status, 1, `${name}: ${failed.stderr}`)
      const error = failed.events.find((e) => e.event === 'perf_error')
      assert.ok(error, `${name}: ${JSON.stringify(failed.events)}`)
      assert.equal(error.addr, addr)
      assert.match(error.error, /\S/)
      assert.equal(failed.events.filter((e) => e.event === 'perf').length, 0)
    }
  } finally {
    await server.stop()
    await plain.stop()
  }
  assert.equal(server.child.exitCode, 0, server.stderr)
})

// --publish-interval-ms 0: back to back under flow control. A subscriber stopped (SIGSTOP) while 1,000
// messages of 20,000 bytes go out (20 MB: more than its send queue holds) holds the publisher back, and gets
// every message once it runs again; a publisher that went on would have dropped what its queue had no room for.
test('--publish-interval-ms 0: a stopped subscriber holds publishing back, and gets every message', { timeout: 60000 }, async () => {
  const count = 1000
  const procs = []
  try {
    const a = new Proc('a', NODE, ['--seed', 'flow-a', '--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 'f',
      '--router', 'floodsub', '--publish-count', String(count), '--publish-size', '20000',
      '--publish-interval-ms', '0', '--publish-delay-ms', '2000'])
    procs.push(a)
    const aStarted = await a.event('started')
    const b = new Proc('b', NODE, ['--seed', 'flow-b', '--topic', 'f', '--router', 'floodsub',
      '--dial', aStarted.listen_addrs[0]])
    procs.push(b)
    await a.event('peer_subscribed')
    b.child.kill('SIGSTOP')
    try {
      await a.event('published')
      // Publishing runs ahead until the stopped reader's queue is full, then waits (well within the 5 s a
      // publish may wait in a queue).
      await new Promise((resolve) => setTimeout(resolve, 1500))
      const whileStopped = a.events.filter((e) => e.event === 'published').length
      assert.ok(whileStopped < count, `${whileStopped} published while the subscriber was stopped`)
    } finally {
      b.child.kill('SIGCONT')
    }
    await b.waitFor(() => b.events.filter((e) => e.event === 'message').length === count, `${count} messages`, 30000)
    await a.waitFor(() => a.events.filter((e) => e.event === 'published').length === count, `${count} published`)
    const got = b.events.filter((e) => e.event === 'message')
    assert.equal(new Set(got.map((e) => e.seqno)).size, count)
    assert.ok(got.every((e) => e.size === 20000))
  } finally {
    await Promise.all(procs.map((p) => p.stop()))
  }
})

test('--swarm-key: a malformed key file is a usage error that does not print the key', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'swarm-key-'))
  try {
    const hex = 'ab'.repeat(31) + 'zz'
    const file = path.join(dir, 'swarm.key')
    writeFileSync(file, `/key/swarm/psk/1.0.0/\n/base16/\n${hex}`)
    const r = spawnSync(NODE, ['--swarm-key', file], { encoding: 'utf8', timeout: 10000 })
    assert.equal(r.status, 2, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /--swarm-key/)
    assert.ok(!r.stderr.includes('abab'), r.stderr)
    writeFileSync(file, `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(32)}\n`)
    const events = runBriefly(['--swarm-key', file])
    assert.equal(events[0].event, 'started')
    assert.match(events[0].swarm_key_fingerprint, /^[0-9a-f]{8}$/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('--allowed-topic: a peer\'s subscriptions to other topics are neither recorded nor reported', { timeout: 60000 }, async () => {
  const a = new Proc('a', NODE, ['--listen', '/ip4/127.0.0.1/tcp/0', '--allowed-topic', 'a', '--topic', 'a', '--stdin'])
  let b
  try {
    const started = await a.event('started')
    b = new Proc('b', NODE, ['--topic', 'b', '--topic', 'a', '--dial', started.listen_addrs[0], '--stdin'])
    const bStarted = await b.event('started')
    // b announces both topics in one RPC: once a reports "a", it has handled "b" too.
    await a.waitFor((e) => e.event === 'peer_subscribed' && e.peer_id === bStarted.peer_id && e.topic === 'a', 'b on a')
    a.child.stdin.end()
    assert.equal(await a.exit(), 0, a.stderr)
  } finally {
    await a.stop()
    if (b) await b.stop()
  }
  assert.ok(!a.events.some((e) => e.event === 'peer_subscribed' && e.topic === 'b'), JSON.stringify(a.events))
  const summary = a.events.at(-1)
  assert.equal(summary.event, 'summary')
  assert.equal(summary.subscriptions_filtered, 1)
})
