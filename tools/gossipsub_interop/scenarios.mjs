// Scenarios of libp2p/test-plans' gossipsub-interop harness, generated here with its instructions and
// semantics (a generator of our own): params.json scripts, the harness's pass check and its analysis, and a
// runner that starts one pubsub_node process per node on loopback (the --params mode, docs/cli.md).
import { spawn } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

// A small seeded generator (mulberry32), so that a seed gives the same scenario every time.
export function random (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const onNode = (nodeID, instruction) => ({ type: 'ifNodeIDEquals', nodeID, instruction })

// Timings: the harness's (a 120 s warm-up, a message every 12 s, 30 s at the end), or shortened ones.
export function timings (short) {
  return short ? { warmup: 10, interval: 1.5, tail: 5 } : { warmup: 120, interval: 12, tail: 30 }
}

// Each node's initGossipSub, heartbeats spread 0.1 ms apart; random links until each node has `degree`
// (counted both ways).
function common (rng, nodes, degree, disableGossip) {
  const script = []
  for (let i = 0; i < nodes; i++) {
    const params = { HeartbeatInitialDelay: Math.round((100.1 + 0.1 * i) * 1e6) }
    if (disableGossip) Object.assign(params, { Dlazy: 0, GossipFactor: 0 })
    script.push(onNode(i, { type: 'initGossipSub', gossipSubParams: params }))
  }
  const links = Array.from({ length: nodes }, () => new Set())
  for (let i = 0; i < nodes; i++) {
    const dial = []
    while (links[i].size < degree) {
      const j = Math.floor(rng() * nodes)
      if (j === i || links[i].has(j)) continue
      links[i].add(j)
      links[j].add(i)
      dial.push(j)
    }
    if (dial.length > 0) script.push(onNode(i, { type: 'connect', connectTo: dial }))
  }
  return script
}

// Publishes `count` messages from random nodes, one every interval after the warm-up; returns the messages
// (id, publisher, topic, scheduled second).
function publishEvery (rng, script, nodes, count, size, t, topicOf) {
  const messages = []
  let at = t.warmup
  script.push({ type: 'waitUntil', elapsedSeconds: at })
  for (let id = 0; id < count; id++) {
    const publisher = Math.floor(rng() * nodes)
    const topicID = topicOf(rng)
    script.push(onNode(publisher, { type: 'publish', messageID: id, messageSizeBytes: size, topicID }))
    messages.push({ id, publisher, topic: topicID, at })
    at += t.interval
    script.push({ type: 'waitUntil', elapsedSeconds: at })
  }
  script.push({ type: 'waitUntil', elapsedSeconds: at - t.interval + t.tail })
  return { messages, end: at - t.interval + t.tail }
}

// `subnet-blob-msg`: every node in `a-subnet` (5 ms validation), 16 messages of 98,304 bytes.
// `simple-fanout`: even nodes in `topic-a`, odd in `topic-b`, 16 messages of 1,024 bytes to a random topic
// (the publisher is often not subscribed to it: fanout).
export function scenario (name, { nodes, seed = 1, short = false, disableGossip = false }) {
  const rng = random(seed)
  const t = timings(short)
  const script = common(rng, nodes, Math.min(20, nodes - 1), disableGossip)
  const subscriptions = Array.from({ length: nodes }, () => [])
  let plan
  if (name === 'subnet-blob-msg') {
    script.push({ type: 'setTopicValidationDelay', topicID: 'a-subnet', delaySeconds: 0.005 })
    script.push({ type: 'subscribeToTopic', topicID: 'a-subnet' })
    subscriptions.forEach((s) => s.push('a-subnet'))
    plan = publishEvery(rng, script, nodes, 16, 2 * 1024 * 48, t, () => 'a-subnet')
  } else if (name === 'simple-fanout') {
    for (let i = 0; i < nodes; i++) {
      const topicID = i % 2 === 0 ? 'topic-a' : 'topic-b'
      script.push(onNode(i, { type: 'subscribeToTopic', topicID }))
      subscriptions[i].push(topicID)
    }
    plan = publishEvery(rng, script, nodes, 16, 1024, t, (r) => (r() < 0.5 ? 'topic-a' : 'topic-b'))
  } else {
    throw new Error(`unknown scenario ${name} (subnet-blob-msg or simple-fanout)`)
  }
  return { params: { script }, messages: plan.messages, end: plan.end, subscriptions }
}

// Starts one process per node, each writing hosts/node<N>/pubsub_node.stdout and .stderr in `out`, and
// waits for them all to end (at `end` seconds after the common start, plus `grace`). Returns the start
// (ms since the epoch) and each process's exit.
export async function runNodes ({ binary, out, params, nodes, end, basePort, grace = 5 }) {
  mkdirSync(out, { recursive: true })
  const paramsPath = path.resolve(out, 'params.json')
  writeFileSync(paramsPath, JSON.stringify(params))
  const start = Date.now() + 1000  // Every process is up before the clock starts.
  const exits = []
  for (let i = 0; i < nodes; i++) {
    const dir = path.join(out, 'hosts', `node${i}`)
    mkdirSync(dir, { recursive: true })
    const child = spawn(binary, ['--params', paramsPath, '--node-id', String(i), '--base-port', String(basePort),
      '--start-time-ms', String(start), '--duration-s', String(Math.ceil(end + grace))], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.pipe(createWriteStream(path.join(dir, 'pubsub_node.stdout')))
    child.stderr.pipe(createWriteStream(path.join(dir, 'pubsub_node.stderr')))
    exits.push(new Promise((resolve) => child.on('close', (code) => resolve({ node: i, code }))))
  }
  return { start, exits: await Promise.all(exits) }
}

// Reads hosts/**/*.stdout: each node's id, and every received copy (message id, time).
export function readLogs (out) {
  const nodes = new Map()  // node id -> { received: [{id, time}] }
  const hosts = path.join(out, 'hosts')
  for (const host of readdirSync(hosts)) {
    for (const file of readdirSync(path.join(hosts, host)).filter((f) => f.endsWith('.stdout'))) {
      let node = Number(host.replace(/^node/, ''))
      const received = []
      for (const line of readFileSync(path.join(hosts, host, file), 'utf8').split('\n')) {
        if (line === '') continue
        const e = JSON.parse(line)
        if (e.msg === 'PeerID') node = Number(e.node_id)
        if (e.msg === 'Received Message') received.push({ id: Number(e.id), time: e.time })
      }
      nodes.set(node, { received })
    }
  }
  return nodes
}

// The harness's check of subnet-blob-msg: after the first `skip` messages (by first receipt), every message
// reached every other node. For simple-fanout, each message must reach every subscriber of its topic but
// its publisher. Returns the lines it prints and whether it passed.
export function check (name, logs, messages, subscriptions, { skip = 4 } = {}) {
  const firstSeen = new Map()
  const receivers = new Map()
  for (const [node, { received }] of logs) {
    for (const r of received) {
      if (!firstSeen.has(r.id) || r.time < firstSeen.get(r.id)) firstSeen.set(r.id, r.time)
      if (!receivers.has(r.id)) receivers.set(r.id, new Set())
      receivers.get(r.id).add(node)
    }
  }
  const ordered = messages.slice().sort((a, b) => (firstSeen.get(a.id) ?? '~').localeCompare(firstSeen.get(b.id) ?? '~'))
  const checked = name === 'subnet-blob-msg' ? ordered.slice(skip) : ordered
  const lines = []
  let ok = true
  for (const m of checked) {
    const expected = name === 'subnet-blob-msg'
      ? [...logs.keys()].filter((n) => n !== m.publisher)
      : [...logs.keys()].filter((n) => n !== m.publisher && subscriptions[n].includes(m.topic))
    const got = expected.filter((n) => receivers.get(m.id)?.has(n)).length
    const pass = got === expected.length
    ok &&= pass
    lines.push(`[${pass ? 'OK' : 'FAIL'}] ${m.id}: ${got}/${expected.length} nodes`)
  }
  lines.push(ok ? `PASSED: ${checked.length} messages reached every node they were for` : 'FAILED')
  return { ok, lines }
}

// The harness's analysis, per message: time to disseminate (the last node's first copy, from the scheduled
// publish), its p50, the average number of duplicate copies per receiving node, and the share of the other
// nodes reached. The publisher is left out (anonymous messages may come back to it). Times in milliseconds.
export function analyse (logs, messages, start) {
  const rows = ['Message ID, Time to Disseminate, p50 to Disseminate, Avg Duplicate Count, Reached percent']
  const others = logs.size - 1
  for (const m of messages) {
    const firsts = []
    let duplicates = 0
    for (const [node, { received }] of logs) {
      if (node === m.publisher) continue
      const copies = received.filter((r) => r.id === m.id).map((r) => Date.parse(r.time))
      if (copies.length === 0) continue
      firsts.push(Math.min(...copies) - (start + m.at * 1000))
      duplicates += copies.length - 1
    }
    firsts.sort((a, b) => a - b)
    const last = firsts.at(-1) ?? NaN
    const p50 = firsts[Math.floor((firsts.length - 1) / 2)] ?? NaN
    const avgDup = firsts.length > 0 ? duplicates / firsts.length : 0
    rows.push(`${m.id}, ${last} ms, ${p50} ms, ${avgDup.toFixed(2)}, ${(100 * firsts.length / others).toFixed(1)}%`)
  }
  return rows
}
