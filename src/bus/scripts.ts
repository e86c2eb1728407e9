import { readFileSync } from 'node:fs'
import { EventspineError } from '../errors.js'
import type { RedisClient } from '../redis/nodes.js'

/**
 * The Lua scripts of the runtime, one file each under ./lua (copied next to the build). `keys`:
 * how many KEYS a script takes; without it the caller passes the count first (the keys a
 * commit touches vary with its events). Every key a script touches is in KEYS.
 */
const SCRIPTS: Record<ScriptName, { readonly file: string; readonly keys?: number }> = {
  esCommit: { file: 'commit.lua' },
  esFail: { file: 'fail.lua' },
  esPublish: { file: 'publish.lua' },
  esLease: { file: 'lease.lua', keys: 1 },
  esRefail: { file: 'refail.lua' },
  esBreaker: { file: 'breaker.lua', keys: 3 },
  esSwap: { file: 'swap.lua' },
}

type ScriptName = 'esCommit' | 'esFail' | 'esPublish' | 'esLease' | 'esRefail' | 'esBreaker' | 'esSwap'
// Buffers: commit.lua takes its arguments packed as one MessagePack buffer (effects.ts).
type Arg = string | number | Buffer

/**
 * A client (one Redis or a Cluster) with the runtime's scripts defined (EVALSHA, falling back to
 * EVAL on NOSCRIPT). On a Cluster a script goes to the node owning its first key: every key of
 * one call shares one hash tag (`{ns}` or `{ns:p}`, see keys.ts), so they are all in its slot.
 */
export type ScriptClient = RedisClient & { [K in ScriptName]: (...args: Arg[]) => Promise<unknown> }

/** `--- @include "name"` on a line of its own stands for ./lua/include/name.lua: Lua shared by several scripts. */
const INCLUDE = /^--- @include "([a-z-]+)"$/gm

let sources: Map<ScriptName, string> | undefined

function loadSources(): Map<ScriptName, string> {
  if (sources) return sources
  const read = (path: string) => readFileSync(new URL(`./lua/${path}`, import.meta.url), 'utf8')
  sources = new Map()
  for (const [name, { file }] of Object.entries(SCRIPTS) as [ScriptName, { file: string }][]) {
    sources.set(name, read(file).replace(INCLUDE, (_, include: string) => read(`include/${include}.lua`)))
  }
  return sources
}

export function withScripts(client: RedisClient): ScriptClient {
  const loaded = loadSources()
  for (const [name, { keys }] of Object.entries(SCRIPTS) as [ScriptName, { keys?: number }][]) {
    if (typeof (client as unknown as Record<string, unknown>)[name] !== 'function') {
      client.defineCommand(name, { ...(keys === undefined ? {} : { numberOfKeys: keys }), lua: loaded.get(name) as string })
    }
  }
  return client as ScriptClient
}

/** Negative codes the scripts return, mapped to errors in one place. */
export enum ScriptCode {
  LeaseLost = -1,
  WrongKeyType = -2,
  /** A dead letter named for re-delivery is no longer there (replayed or purged meanwhile). */
  DeadLetterGone = -3,
}

export function scriptError(reply: readonly unknown[], consumer: string): EventspineError | undefined {
  const code = reply[0]
  if (code === ScriptCode.LeaseLost) {
    return new EventspineError('E_LEASE_LOST', `consumer ${consumer} lost its lease: another instance took over`, {
      hint: 'Only one instance of a consumer runs at a time; this one stops committing and waits to take over again.',
      userFixable: false,
    })
  }
  if (code === ScriptCode.WrongKeyType) {
    return new EventspineError('E_STATE_KEY_TYPE', `consumer ${consumer} wrote to ${String(reply[1])}, which holds another Redis type`, {
      hint: 'Use one kind of write (set or hset) per state key; nothing of this batch was applied.',
    })
  }
  return undefined
}
