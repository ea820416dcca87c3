// libp2p's perf protocol (/perf/1.0.0) between our node and js-libp2p, over TCP, Noise and each muxer: our
// node's `--perf` against a js perf server, and a js perf client against our `--perf-server`, each moving a few
// megabytes each way (correctness only: tools/interop/perf_bench.mjs measures throughput). The js side's perf
// ends are js_perf.mjs's (npm serves no @libp2p/perf for the js-libp2p release pinned here).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Proc, bazelBinary } from './harness.mjs'

const NODE = bazelBinary('tools/pubsub_node')
const JS_PERF = path.join(path.dirname(fileURLToPath(import.meta.url)), 'js_perf.mjs')
const UPLOAD = 3_000_003
const DOWNLOAD = 5_000_005

// Runs a client until it exits by itself: its exit status and its perf event (or its events).
async function runClient (name, command, args) {
  const p = new Proc(name, command, args)
  const status = await p.exit(30000)
  const perf = p.events.find((e) => e.event === 'perf' || e.event === 'perf_error') ?? { events: p.events }
  return { perf, status, stderr: p.stderr }
}

function checkPerf (result, serverId) {
  assert.equal(result.perf.event, 'perf', JSON.stringify(result.perf) + result.stderr)
  assert.equal(result.status, 0, result.stderr)
  assert.equal(result.perf.peer_id, serverId)
  assert.equal(result.perf.upload_bytes, UPLOAD)
  assert.equal(result.perf.download_bytes, DOWNLOAD)
  assert.ok(result.perf.upload_ms > 0 && result.perf.download_ms > 0, JSON.stringify(result.perf))
  assert.ok(result.perf.upload_mb_s > 0 && result.perf.download_mb_s > 0, JSON.stringify(result.perf))
}

for (const muxer of ['yamux', 'mplex']) {
  test(`${muxer}: our --perf against a js perf server`, { timeout: 60000 }, async () => {
    const server = new Proc('js server', process.execPath, [JS_PERF, '--listen', '/ip4/127.0.0.1/tcp/0',
      '--perf-server', '--muxer', muxer])
    try {
      const started = await server.event('started')
      const addr = started.listen_addrs.find((a) => a.includes('/ip4/127.0.0.1/'))
      const result = await runClient('our client', NODE, ['--perf', addr, '--muxer', muxer,
        '--perf-upload-bytes', String(UPLOAD), '--perf-download-bytes', String(DOWNLOAD)])
      checkPerf(result, started.peer_id)
      const served = await server.event('perf_served')
      assert.equal(served.upload_bytes, UPLOAD)
      assert.equal(served.download_bytes, DOWNLOAD)
    } finally {
      await server.stop()
    }
  })

  test(`${muxer}: a js perf client against our --perf-server`, { timeout: 60000 }, async () => {
    const server = new Proc('our server', NODE, ['--listen', '/ip4/127.0.0.1/tcp/0', '--perf-server', '--muxer', muxer])
    try {
      const started = await server.event('started')
      const result = await runClient('js client', process.execPath, [JS_PERF, '--perf', started.listen_addrs[0],
        '--muxer', muxer, '--perf-upload-bytes', String(UPLOAD), '--perf-download-bytes', String(DOWNLOAD)])
      checkPerf(result, started.peer_id)
    } finally {
      await server.stop()
    }
    assert.equal(server.child.exitCode, 0, server.stderr)
  })
}
