// The node program's traces (`--trace-json`, `--trace-pb`, `--trace-remote`) in go-libp2p-pubsub's formats:
// two nodes exchange messages while one writes all three (the remote one to tools/trace_collector, over go's
// tracer protocol), and tools/trace_stat's figures match what the test counts from the nodes' own events.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')
const COLLECTOR = bazelBinary('tools/trace_collector/trace_collector')
const TRACE_STAT = bazelBinary('tools/trace_stat/trace_stat')
const COUNT = 30

// go's TraceEvent types (trace.proto).
const PUBLISH_MESSAGE = 0
const DELIVER_MESSAGE = 3
const JOIN = 9

function jsonLines (file) {
  return readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))
}

test('a node traces to a JSON file, a protobuf file and a remote collector; trace_stat agrees with the nodes', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trace-test-'))
  const procs = []
  t.after(async () => {
    for (const p of procs) await p.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const file = (name) => path.join(dir, name)

  // The collector prints where it listens on stderr.
  const collector = new Proc('collector', COLLECTOR, ['--listen', '/ip4/127.0.0.1/tcp/0', '--format', 'json',
    '--out', file('collected.json'), '--flush-ms', '100'])
  procs.push(collector)
  const collectorAddr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector: no address; stderr ${collector.stderr}`)), 20000)
    const check = () => {
      const m = /listening (\S+)/.exec(collector.stderr)
      if (m) { clearTimeout(timer); resolve(m[1]) } else setTimeout(check, 20)
    }
    check()
  })

  const a = new Proc('a', NODE, ['--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 't', '--trace-json', file('a.json'),
    '--trace-pb', file('a.pb'), '--trace-remote', collectorAddr])
  procs.push(a)
  const started = await a.event('started')
  const b = new Proc('b', NODE, ['--dial', started.listen_addrs[0], '--topic', 't', '--trace-json', file('b.json'),
    '--publish-count', String(COUNT), '--publish-interval-ms', '20', '--publish-delay-ms', '1500', '--duration-s', '4'])
  procs.push(b)
  await b.event('summary', 30000)
  await a.stop()
  await collector.stop()

  // What the nodes said: b's publishes and a's deliveries, with their times.
  const published = b.events.filter((e) => e.event === 'published')
  const received = a.events.filter((e) => e.event === 'message')
  assert.equal(published.length, COUNT)
  assert.equal(received.length, COUNT)

  // trace_stat over a's protobuf and b's JSON trace.
  const r = spawnSync(TRACE_STAT, ['--json', file('a.pb'), file('b.json')], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const stats = JSON.parse(r.stdout)
  assert.equal(stats.peers, 2)
  const topic = stats.topics.t
  assert.equal(topic.published, published.length)
  // As go's tracestat: every DeliverMessage, the publisher's own included.
  assert.equal(topic.delivered, published.length + received.length)
  assert.equal(topic.duplicates, 0)
  assert.deepEqual(topic.rejected, {})
  assert.equal(topic.delay_ns.count, received.length)
  // The delays lie within what the nodes' clocks (milliseconds, rounded down) saw: b traced each publish after
  // the event it printed just before its `published` event (one loop thread prints and publishes in order),
  // and a traced each delivery before printing its `message` event.
  const printedBefore = new Map()
  for (let i = 1; i < b.events.length; ++i) {
    if (b.events[i].event === 'published') printedBefore.set(b.events[i].id, b.events[i - 1].time_ms)
  }
  const bound = Math.max(...received.map((e) => e.time_ms + 1 - printedBefore.get(e.id)))
  assert.ok(topic.delay_ns.max <= bound * 1e6, `max delay ${topic.delay_ns.max} ns, the nodes' clocks allow ${bound} ms`)
  assert.ok(topic.delay_ns.p50 >= 0 && topic.delay_ns.p50 <= topic.delay_ns.p99 && topic.delay_ns.p99 <= topic.delay_ns.max)

  // a's JSON trace: a join first, then the deliveries of b's messages in order of arrival.
  const events = jsonLines(file('a.json'))
  assert.equal(events[0].type, JOIN)
  assert.deepEqual(events[0].join, { topic: 't' })
  const idHex = (e) => Buffer.from(e.deliverMessage.messageID, 'base64').toString('hex')
  const delivered = events.filter((e) => e.type === DELIVER_MESSAGE)
  assert.deepEqual(delivered.map(idHex), received.map((e) => e.id))
  assert.equal(events.filter((e) => e.type === PUBLISH_MESSAGE).length, 0)
  // b's trace has its publishes, in order.
  const bPublished = jsonLines(file('b.json')).filter((e) => e.type === PUBLISH_MESSAGE)
  assert.deepEqual(bPublished.map((e) => Buffer.from(e.publishMessage.messageID, 'base64').toString('hex')),
    published.map((e) => e.id))

  // The collector got a's events over the remote protocol: the same events in the same order, up to where a
  // closed the stream as it stopped.
  const collected = jsonLines(file('collected.json'))
  assert.ok(collected.length >= delivered.length, `${collected.length} events collected`)
  const key = (e) => JSON.stringify({ ...e, timestamp: 0 })
  assert.deepEqual(collected.map(key), events.slice(0, collected.length).map(key))
})
