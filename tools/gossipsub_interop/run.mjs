// Runs a gossipsub-interop scenario of libp2p/test-plans on loopback, one pubsub_node per node, then applies
// the harness's check and analysis (tools/gossipsub_interop/README.md).
//
//   node tools/gossipsub_interop/run.mjs --scenario subnet-blob-msg --nodes 32 [--seed 1] [--short]
//        [--disable-gossip] [--output DIR] [--base-port P] [--write-params FILE]
// Exit status 0 when the check passes. With --write-params it only writes the scenario's params.json to FILE
// (for the simulator, tools/sim) and prints how long the scenario runs.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { analyse, check, checkPartial, readLogs, runNodes, scenario } from './scenarios.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))

export async function runScenario ({ name, nodes, seed = 1, short = false, disableGossip = false, output, basePort = 19500 }) {
  const binary = path.join(process.env.LIBP2P_BAZEL_BIN ?? path.join(here, '../../bazel-bin'), 'tools/pubsub_node')
  const out = output ?? mkdtempSync(path.join(tmpdir(), `${name}-${nodes}-`))
  const s = scenario(name, { nodes, seed, short, disableGossip })
  const { start, exits } = await runNodes({ binary, out, params: s.params, nodes, end: s.end, basePort })
  const failedProcesses = exits.filter((e) => e.code !== 0)
  const logs = readLogs(out)
  const result = s.groups !== undefined ? checkPartial(logs, s.groups) : check(name, logs, s.messages, s.subscriptions)
  const analysis = analyse(logs, s.messages, start)
  writeFileSync(path.join(out, 'analysis.txt'), analysis.join('\n') + '\n')
  return { out, ok: result.ok && failedProcesses.length === 0, lines: result.lines, analysis, failedProcesses }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = { name: 'subnet-blob-msg', nodes: 32 }
  const argv = process.argv.slice(2)
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]
    const value = () => {
      if (i + 1 >= argv.length) { console.error(`run.mjs: ${flag} needs a value`); process.exit(2) }
      return argv[++i]
    }
    if (flag === '--scenario') args.name = value()
    else if (flag === '--nodes') args.nodes = Number(value())
    else if (flag === '--seed') args.seed = Number(value())
    else if (flag === '--short') args.short = true
    else if (flag === '--disable-gossip') args.disableGossip = true
    else if (flag === '--output') args.output = value()
    else if (flag === '--base-port') args.basePort = Number(value())
    else if (flag === '--write-params') args.writeParams = value()
    else { console.error(`run.mjs: unknown flag ${flag}`); process.exit(2) }
  }
  if (!Number.isInteger(args.nodes) || args.nodes < 2 || args.nodes > 1000) {
    console.error('run.mjs: --nodes must be 2 to 1000')
    process.exit(2)
  }
  if (args.writeParams !== undefined) {
    const s = scenario(args.name, args)
    writeFileSync(args.writeParams, JSON.stringify(s.params, null, 1) + '\n')
    console.log(`${args.writeParams}: ${args.name} for ${args.nodes} nodes, ${s.end} s long`)
    process.exit(0)
  }
  const r = await runScenario(args)
  for (const line of r.lines) console.log(line)
  for (const p of r.failedProcesses) console.log(`node${p.node} exited with ${p.code}`)
  console.log(`output: ${r.out} (analysis.txt:)`)
  for (const line of r.analysis) console.log(`  ${line}`)
  process.exit(r.ok ? 0 : 1)
}
