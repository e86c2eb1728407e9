import { readFileSync } from 'node:fs'
import type { Redis } from 'ioredis'
import { EventspineError } from '../errors.js'

/** The Lua scripts of the runtime, one file each under ./lua (copied next to the build). */
const SCRIPTS = {
  esCommit: { file: 'commit.lua', keys: 5 },
  esFail: { file: 'fail.lua', keys: 4 },
  esPublish: { file: 'publish.lua', keys: 0 },
  esLease: { file: 'lease.lua', keys: 1 },
  esRefail: { file: 'refail.lua', keys: 1 },
} as const

type ScriptName = keyof typeof SCRIPTS
type Arg = string | number

/** A client with the runtime's scripts defined (EVALSHA, falling back to EVAL on NOSCRIPT). */
export type ScriptClient = Redis & { [K in ScriptName]: (...args: Arg[]) => Promise<unknown> }

let sources: Map<ScriptName, string> | undefined

function loadSources(): Map<ScriptName, string> {
  if (sources) return sources
  sources = new Map()
  for (const [name, { file }] of Object.entries(SCRIPTS) as [ScriptName, { file: string }][]) {
    sources.set(name, readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8'))
  }
  return sources
}

export function withScripts(client: Redis): ScriptClient {
  const loaded = loadSources()
  for (const [name, { keys }] of Object.entries(SCRIPTS) as [ScriptName, { keys: number }][]) {
    if (typeof (client as unknown as Record<string, unknown>)[name] !== 'function') {
      client.defineCommand(name, { numberOfKeys: keys, lua: loaded.get(name) as string })
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
