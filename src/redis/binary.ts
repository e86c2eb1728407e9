import { execFile } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { promisify } from 'node:util'
import { binaryMissingError } from './errors.js'

const run = promisify(execFile)

/**
 * The environment of every redis-server we start: ours, without libfaketime in LD_PRELOAD.
 * redis-server aborts under it (its allocator reads the clock before the library is ready), so a
 * run under `faketime` (a test of another date) moves only our clock, as a server's clock differs
 * from its clients'.
 */
export function redisServerEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const preload = env['LD_PRELOAD']
  if (preload === undefined || !preload.includes('faketime')) return env
  const kept = preload.split(/[\s:]+/).filter((lib) => lib !== '' && !lib.includes('faketime'))
  const { LD_PRELOAD: _dropped, ...rest } = env
  return kept.length === 0 ? rest : { ...rest, LD_PRELOAD: kept.join(':') }
}

export interface RedisServerBinary {
  path: string
  /** e.g. "7.0.15"; undefined when `--version` printed something unexpected. */
  version: string | undefined
}

/** The first executable `redis-server` on PATH (as a shell would find it), or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // not here; keep looking
    }
  }
  return undefined
}

/** Finds redis-server and asks its version; undefined when it is not installed. */
export async function findRedisServer(env: NodeJS.ProcessEnv = process.env): Promise<RedisServerBinary | undefined> {
  const path = findOnPath('redis-server', env)
  if (path === undefined) return undefined
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 5_000, env: redisServerEnv(env) })
    return { path, version: /\bv=(\S+)/.exec(stdout)?.[1] }
  } catch {
    return { path, version: undefined }
  }
}

/** Like findRedisServer, but a missing binary is the one clear E_REDIS_BINARY_MISSING error. */
export async function requireRedisServer(env: NodeJS.ProcessEnv = process.env): Promise<RedisServerBinary> {
  const binary = await findRedisServer(env)
  if (binary === undefined) throw binaryMissingError()
  return binary
}
