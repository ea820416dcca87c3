// The node program's command line (shared/docs/cli.md): bad flags and values fail with a one-line error
// naming the flag and exit status 2 before anything starts; `--direct` (an extension) makes a gossipsub
// direct peer that the node dials by itself and never puts in its mesh.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
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
  [['--publish-count', '-1'], '--publish-count'],
  [['--publish-size', 'many'], '--publish-size'],
  [['--duration-s', '1e9'], '--duration-s'],
  [['--topic', ''], '--topic'],
  [['--publish-count', '1'], '--publish-topic'],
  [['--direct', '/ip4/127.0.0.1/tcp/1'], '--direct'],
  [['--router', 'floodsub', '--direct', '/ip4/127.0.0.1/tcp/1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'], '--direct']
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
