import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { defineConsumer, type ConsumerDefinition } from '../../../src/index.js'

/**
 * The README's `./src/file-sink.js`: a consumer whose state is outside Redis (one file per
 * event, named by its id so a redelivery rewrites the same file), shown to the harness by `inspect()`.
 */
export function fileSink(options: { readonly dir: string }): ConsumerDefinition {
  return defineConsumer({
    name: 'file-sink',
    subscribes: ['account.credited'],
    handle(event) {
      writeFileSync(join(options.dir, `${event.id}.json`), JSON.stringify(event.payload))
    },
    inspect() {
      return Object.fromEntries(readdirSync(options.dir).sort().map((name) => [name, readFileSync(join(options.dir, name), 'utf8')]))
    },
  })
}
