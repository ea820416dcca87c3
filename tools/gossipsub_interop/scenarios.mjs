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
// The partial-messages scenarios (groups of 8 parts; `parts` is a bitmap of them): see partialScenario.
export function scenario (name, { nodes, seed = 1, short = false, disableGossip = false }) {
  if (name.startsWith('partial-messages')) return partialScenario(name, { nodes, seed, short, disableGossip })
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
    throw new Error(`unknown scenario ${name} (subnet-blob-msg, simple-fanout, partial-messages, ` +
      'partial-messages-chain or partial-messages-fanout)')
  }
  return { params: { script }, messages: plan.messages, end: plan.end, subscriptions }
}

// The harness's partial-messages scenarios. Each returns `groups` (how many "All parts received" lines each
// node must log) instead of messages.
// - `partial-messages`: random links (20 per node at most), every node subscribes to `a-subnet` asking for
//   partial messages; after the warm-up each node is given random parts of one group (with 2 nodes,
//   complementary ones), then every node publishes it partially.
// - `partial-messages-chain`: a line 0-1-...-(n-1) on `partial-msg-chain`; 16 groups whose 8 parts are dealt
//   round-robin over the nodes; one group published (by every node) every interval.
// - `partial-messages-fanout`: node 0 does not subscribe; it holds every part and publishes to nodes 1 to 7.
function partialScenario (name, { nodes, seed, short, disableGossip }) {
  const rng = random(seed)
  const warmup = short ? 5 : 30
  const script = []
  for (let i = 0; i < nodes; i++) {
    const params = { HeartbeatInitialDelay: Math.round((100.1 + 0.1 * i) * 1e6) }
    if (disableGossip) Object.assign(params, { Dlazy: 0, GossipFactor: 0 })
    script.push(onNode(i, { type: 'initGossipSub', gossipSubParams: params }))
  }
  let end
  let groups = 1
  if (name === 'partial-messages-chain') {
    for (let i = 0; i + 1 < nodes; i++) script.push(onNode(i, { type: 'connect', connectTo: [i + 1] }))
    const topicID = 'partial-msg-chain'
    script.push({ type: 'subscribeToTopic', topicID, partial: true })
    script.push({ type: 'waitUntil', elapsedSeconds: warmup })
    groups = 16
    for (let g = 0; g < groups; g++) {
      for (let part = 0; part < 8; part++) {
        script.push(onNode((g * 8 + part) % nodes, { type: 'addPartialMessage', topicID, groupID: g, parts: 1 << part }))
      }
    }
    let at = warmup
    for (let g = 0; g < groups; g++) {
      at += short ? 1 : 2
      script.push({ type: 'waitUntil', elapsedSeconds: at })
      script.push({ type: 'publishPartial', topicID, groupID: g })
    }
    end = at + (short ? 10 : 30)
  } else {
    // Links as the other scenarios make them, drawn from the same generator.
    const links = common(rng, nodes, Math.min(20, nodes - 1), disableGossip).filter((i) => i.instruction.type === 'connect')
    script.push(...links)
    const topicID = 'a-subnet'
    const groupID = Math.floor(rng() * 256)
    if (name === 'partial-messages') {
      script.push({ type: 'subscribeToTopic', topicID, partial: true })
      script.push({ type: 'waitUntil', elapsedSeconds: warmup })
      if (nodes === 2) {
        const parts = Math.floor(rng() * 256)
        script.push(onNode(0, { type: 'addPartialMessage', topicID, groupID, parts }))
        script.push(onNode(1, { type: 'addPartialMessage', topicID, groupID, parts: 0xff ^ parts }))
      } else {
        for (let i = 0; i < nodes; i++) {
          script.push(onNode(i, { type: 'addPartialMessage', topicID, groupID, parts: Math.floor(rng() * 256) }))
        }
      }
      script.push({ type: 'publishPartial', topicID, groupID })
    } else if (name === 'partial-messages-fanout') {
      for (let i = 1; i < nodes; i++) script.push(onNode(i, { type: 'subscribeToTopic', topicID, partial: true }))
      script.push({ type: 'waitUntil', elapsedSeconds: warmup })
      script.push(onNode(0, { type: 'addPartialMessage', topicID, groupID, parts: 0xff }))
      const publishToNodeIDs = Array.from({ length: Math.min(8, nodes) - 1 }, (_, k) => k + 1)
      script.push(onNode(0, { type: 'publishPartial', topicID, groupID, publishToNodeIDs }))
    } else {
      throw new Error(`unknown scenario ${name}`)
    }
    end = warmup + 10
  }
  script.push({ type: 'waitUntil', elapsedSeconds: end })
  return { params: { script }, messages: [], end, subscriptions: [], groups }
}

// The harness's check of the partial-messages scenarios: every node logged "All parts received" at least
// `groups` times.
export function checkPartial (logs, groups) {
  const lines = []
  let ok = true
  for (const [node, { completed }] of [...logs].sort((a, b) => a[0] - b[0])) {
    const pass = completed >= groups
    ok &&= pass
    lines.push(`[${pass ? 'OK' : 'FAIL'}] node${node}: ${completed}/${groups} groups complete`)
  }
  lines.push(ok ? `PASSED: every node has all parts of ${groups} group(s)` : 'FAILED')
  return { ok, lines }
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

// Reads hosts/**/*.stdout: each node's id, every received copy (message id, time), and how many
// "All parts received" lines it logged.
export function readLogs (out) {
  const nodes = new Map()  // node id -> { received: [{id, time}], completed }
  const hosts = path.join(out, 'hosts')
  for (const host of readdirSync(hosts)) {
    for (const file of readdirSync(path.join(hosts, host)).filter((f) => f.endsWith('.stdout'))) {
      let node = Number(host.replace(/^node/, ''))
      const received = []
      let completed = 0
      for (const line of readFileSync(path.join(hosts, host, file), 'utf8').split('\n')) {
        if (line === '') continue
        // The harness counts the raw substring, as here.
        if (line.includes('"msg":"All parts received"')) completed++
        const e = JSON.parse(line)
        if (e.msg === 'PeerID') node = Number(e.node_id)
        if (e.msg === 'Received Message') received.push({ id: Number(e.id), time: e.time })
      }
      nodes.set(node, { received, completed })
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
