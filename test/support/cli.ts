import { execFile } from 'node:child_process'
import { resolve } from 'node:path'

/** The built CLI, as a user runs it (`npm test` builds first). */
export const BIN = resolve('bin/run.js')

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** A bare environment: PATH, a HOME of the test's own, and what the test adds. */
export function bareEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '', HOME: home, ...extra }
}

/**
 * How long a test lets one CLI run go on: a hang detector, not a speed target. On a loaded
 * 2-core machine a CLI start alone can take several seconds. Below vitest's testTimeout, so a
 * hung run fails with its output rather than as a bare test timeout.
 */
export const CLI_TIMEOUT_MS = 150_000

/** Runs `pipeline <args>` to the end (`input`: its stdin); never rejects, the exit code is in the result. */
export function runCli(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; input?: string; bin?: string }): Promise<CliRun> {
  return runProcess(process.execPath, [options.bin ?? BIN, ...args], options)
}

/** Runs any program to the end, as {@link runCli} runs the CLI (`npm`, `npx`, `git`). */
export function runProcess(file: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number; input?: string }): Promise<CliRun> {
  const timeoutMs = options.timeoutMs ?? CLI_TIMEOUT_MS
  return new Promise((done) => {
    const child = execFile(file, args, { cwd: options.cwd, env: options.env, timeout: timeoutMs }, (error, stdout, stderr) =>
      // A run killed on the timeout says so, rather than passing for an exit code of 1.
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr: error?.killed ? `${stderr}
(test harness: killed after ${timeoutMs} ms)` : stderr }),
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}
