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

/** Runs `pipeline <args>` to the end (`input`: its stdin); never rejects, the exit code is in the result. */
export function runCli(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number; input?: string }): Promise<CliRun> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env, timeout: options.timeoutMs }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}
