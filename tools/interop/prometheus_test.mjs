// The node's metrics (`--metrics`) as an operator sees them: a real Prometheus server (Debian's package)
// scrapes a node while it exchanges messages with another, and a PromQL query through Prometheus' HTTP API
// sees the delivered counter rise; `promtool check metrics` accepts the exposition.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')
const DELIVERED = 'gossipsub_msg_delivered_total'

// A port free at the time of asking, for Prometheus' own listener.
function freePort () {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

// The host:port of an /ip4/A/tcp/P multiaddr.
function hostPort (multiaddr) {
  const m = /^\/ip4\/([^/]+)\/tcp\/(\d+)/.exec(multiaddr)
  assert.ok(m, `not an /ip4/.../tcp/... address: ${multiaddr}`)
  return `${m[1]}:${m[2]}`
}

// Calls `probe` until it returns something other than undefined; fails after `timeoutMs` (a guard against
// a hang: each probe waits on a real server, not on time passing).
async function until (what, probe, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs
  let last
  while (Date.now() < deadline) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (e) { last = e }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`no ${what} within ${timeoutMs} ms${last ? `: ${last}` : ''}`)
}

// The value of the instant vector `query` (the sum over its series), or undefined when it has none yet.
async function promQuery (base, query) {
  const r = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`)
  const body = await r.json()
  assert.equal(body.status, 'success', JSON.stringify(body))
  if (body.data.result.length === 0) return undefined
  return body.data.result.reduce((sum, s) => sum + Number(s.value[1]), 0)
}

test('Prometheus scrapes a node exchanging messages and sees its delivered counter rise', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'prometheus-test-'))
  const procs = []
  t.after(async () => {
    for (const p of procs) await p.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  const a = new Proc('a', NODE, ['--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 't',
    '--metrics', '/ip4/127.0.0.1/tcp/0', '--seed', 'prometheus-a'])
  procs.push(a)
  const started = await a.event('started')
  const metrics = await a.event('metrics_listening')
  const target = hostPort(metrics.addr)

  const b = new Proc('b', NODE, ['--listen', '/ip4/127.0.0.1/tcp/0', '--topic', 't', '--dial', started.listen_addrs[0],
    '--publish-count', '100000', '--publish-interval-ms', '50', '--publish-delay-ms', '500', '--seed', 'prometheus-b'])
  procs.push(b)
  await a.event('message')

  // The exposition itself, as promtool lints it.
  const exposition = await (await fetch(`http://${target}/metrics`)).text()
  assert.ok(exposition.includes(DELIVERED), exposition.slice(0, 2000))
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' })
  assert.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`)

  const port = await freePort()
  const config = path.join(dir, 'prometheus.yml')
  writeFileSync(config, [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    'scrape_configs:',
    '  - job_name: pubsub_node',
    '    static_configs:',
    `      - targets: ['${target}']`,
    ''
  ].join('\n'))
  const prometheus = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let prometheusLog = ''
  prometheus.stderr.on('data', (d) => { prometheusLog += d })
  procs.push({ stop: () => new Promise((resolve) => { if (prometheus.exitCode !== null) resolve(); else { prometheus.on('exit', resolve); prometheus.kill('SIGTERM') } }) })
  const base = `http://127.0.0.1:${port}`

  try {
    await until('ready Prometheus', async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined))
    // The target is up: Prometheus parsed a scrape.
    await until('successful scrape', async () => ((await promQuery(base, 'up{job="pubsub_node"}')) === 1 ? true : undefined))
    const first = await until('delivered counter', () => promQuery(base, DELIVERED))
    // Later scrapes see it rise while b keeps publishing.
    const later = await until('a higher delivered counter', async () => {
      const v = await promQuery(base, DELIVERED)
      return v > first ? v : undefined
    })
    assert.ok(later > first)
    const rate = await until('a delivery rate', async () => {
      const v = await promQuery(base, `rate(${DELIVERED}[5s])`)
      return v > 0 ? v : undefined
    })
    assert.ok(rate > 0)
  } catch (e) {
    throw new Error(`${e.message}; prometheus: ${prometheusLog.slice(-2000)}`)
  }
})
