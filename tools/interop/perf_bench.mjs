// Throughput of one perf stream (/perf/1.0.0) over loopback TCP + Noise + a muxer, between our node and
// js-libp2p (js_perf.mjs), each way: for every pair of client and server, an upload-only and a download-only
// measurement of --bytes, repeated --runs times; prints the median MB/s (10^6 bytes a second) of each, as the
// client measured it. Not a test: run it by hand on an otherwise idle machine, with an optimized node build:
//
//   bazel build -c opt //tools:pubsub_node
//   node tools/interop/perf_bench.mjs [--bytes 1073741824] [--runs 3] [--muxer yamux|mplex]
//        [--pairs our-our,our-js,js-our,js-js] [--node PATH]
//
// A pair is CLIENT-SERVER. The node program is bazel-bin/tools/pubsub_node unless --node (or
// LIBP2P_BAZEL_BIN) says otherwise.
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Proc, bazelBinary } from './harness.mjs'

const JS_PERF = path.join(path.dirname(fileURLToPath(import.meta.url)), 'js_perf.mjs')

function parseArgs (argv) {
  const opts = { bytes: 1n << 30n, runs: 3, muxer: 'yamux', pairs: ['our-our', 'our-js', 'js-our', 'js-js'],
    node: bazelBinary('tools/pubsub_node') }
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]]
    if (value === undefined) throw new Error(`${flag} needs a value`)
    switch (flag) {
      case '--bytes': opts.bytes = BigInt(value); break
      case '--runs': opts.runs = Number(value); break
      case '--muxer': opts.muxer = value; break
      case '--pairs': opts.pairs = value.split(','); break
      case '--node': opts.node = value; break
      default: throw new Error(`unknown flag ${flag}`)
    }
  }
  return opts
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function command (side, opts, args) {
  return side === 'our' ? [opts.node, args] : [process.execPath, [JS_PERF, ...args]]
}

async function startServer (side, opts) {
  const [cmd, args] = command(side, opts, ['--listen', '/ip4/127.0.0.1/tcp/0', '--perf-server', '--muxer', opts.muxer])
  const server = new Proc(`${side} server`, cmd, args)
  const started = await server.event('started')
  return { server, addr: started.listen_addrs.find((a) => a.includes('/ip4/127.0.0.1/')) }
}

async function measure (side, opts, addr, upload, download) {
  const [cmd, args] = command(side, opts, ['--perf', addr, '--muxer', opts.muxer,
    '--perf-upload-bytes', String(upload), '--perf-download-bytes', String(download)])
  const client = new Proc(`${side} client`, cmd, args)
  const status = await client.exit(600000)
  const perf = client.events.find((e) => e.event === 'perf')
  if (status !== 0 || perf === undefined) {
    throw new Error(`${side} client failed (status ${status}): ${JSON.stringify(client.events)} ${client.stderr}`)
  }
  return perf
}

async function main () {
  const opts = parseArgs(process.argv.slice(2))
  console.log(`perf: one stream over loopback TCP + Noise + ${opts.muxer}, ${opts.bytes} bytes, median of ${opts.runs}`)
  console.log('client -> server    upload MB/s   download MB/s')
  for (const pair of opts.pairs) {
    const [clientSide, serverSide] = pair.split('-')
    const { server, addr } = await startServer(serverSide, opts)
    try {
      const up = []
      const down = []
      for (let i = 0; i < opts.runs; i++) {
        up.push((await measure(clientSide, opts, addr, opts.bytes, 0n)).upload_mb_s)
        down.push((await measure(clientSide, opts, addr, 0n, opts.bytes)).download_mb_s)
      }
      console.log(`${pair.padEnd(18)} ${median(up).toFixed(1).padStart(12)} ${median(down).toFixed(1).padStart(15)}` +
        `   (upload ${up.map((x) => x.toFixed(0)).join(' ')}; download ${down.map((x) => x.toFixed(0)).join(' ')})`)
    } finally {
      await server.stop()
    }
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
