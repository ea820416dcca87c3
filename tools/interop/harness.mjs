// Runs the processes of an interop test and waits for the NDJSON events they print.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')

// The path of a program built by Bazel, e.g. bazelBinary('tools/interop/secure_channel_peer').
export function bazelBinary (target) {
  const dir = process.env.LIBP2P_BAZEL_BIN ?? path.join(root, 'bazel-bin')
  return path.join(dir, target)
}

// A child process whose stdout lines are parsed as JSON events.
export class Proc {
  constructor (name, command, args) {
    this.name = name
    this.events = []
    this.stderr = ''
    this.waiters = []
    this.exited = false
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let event
      try { event = JSON.parse(line) } catch { return }
      this.events.push(event)
      this.wake()
    })
    this.child.stderr.on('data', (d) => { this.stderr += d })
    // Exited once the process ended and its output was read to the end (the last lines arrive after 'exit').
    this.outputDone = new Promise((resolve) => this.child.stdout.on('close', resolve))
    this.child.on('exit', () => { this.outputDone.then(() => { this.exited = true; this.wake() }) })
  }

  static js (name, args) {
    return new Proc(name, process.execPath, [path.join(here, 'js_node.mjs'), ...args])
  }

  wake () {
    for (const w of [...this.waiters]) w()
  }

  // Resolves with the first event satisfying `match`; rejects when the process exits first or after
  // `timeoutMs` (a guard against a hang, not a wait for time to pass).
  waitFor (match, what, timeoutMs = 20000) {
    return this.until(() => {
      const found = this.events.find(match)
      if (found) return { value: found }
      if (this.exited) {
        throw new Error(`${this.name} exited before ${what}; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr.slice(-2000)}`)
      }
      return null
    }, what, timeoutMs)
  }

  event (name, timeoutMs) {
    return this.waitFor((e) => e.event === name, `"${name}" event`, timeoutMs)
  }

  // Resolves with the exit status once the process exits by itself; rejects after `timeoutMs`, killing it.
  exit (timeoutMs = 20000) {
    return this.until(() => (this.exited ? { value: this.child.exitCode } : null), 'exit', timeoutMs, () => this.stop())
  }

  // Resolves with the value that `check` finds ({ value } when it finds one, null while it does not; it throws
  // to reject), asked now and after every event and the exit; rejects after `timeoutMs`, after `onTimeout`.
  until (check, what, timeoutMs, onTimeout = () => {}) {
    return new Promise((resolve, reject) => {
      const run = () => {
        let found
        try { found = check() } catch (err) { cleanup(); reject(err); return }
        if (found === null) return
        cleanup()
        resolve(found.value)
      }
      const timer = setTimeout(() => {
        cleanup()
        onTimeout()
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}; stderr: ${this.stderr.slice(-2000)}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.waiters = this.waiters.filter((w) => w !== run)
      }
      this.waiters.push(run)
      run()
    })
  }

  stop () {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
    return new Promise((resolve) => {
      if (this.exited) resolve()
      else this.waiters.push(() => { if (this.exited) resolve() })
    })
  }
}
