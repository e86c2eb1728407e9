import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { defineConsumer } from '../../../src/bus/index.js'
import type { CheckEnv } from '../../../src/testing.js'

/**
 * CORRECT: writes one file per event, named by the event id, outside the atomic commit. A
 * redelivery or a crash before commit writes the same file again with the same content, so
 * the folder ends the same: idempotent by construction.
 */
export const fileSink = (env: CheckEnv) =>
  defineConsumer({
    name: 'file-sink',
    subscribes: ['account.credited'],
    async handle(event) {
      await writeFile(join(env.tmpDir, `${event.id}.json`), JSON.stringify({ key: event.key, payload: event.payload }))
    },
    async inspect() {
      const names = (await readdir(env.tmpDir)).filter((f) => f.endsWith('.json')).sort()
      return Object.fromEntries(await Promise.all(names.map(async (f) => [f, JSON.parse(await readFile(join(env.tmpDir, f), 'utf8')) as unknown])))
    },
  })
