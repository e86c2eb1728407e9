import { Command } from '@oclif/core'
import { EventspineError } from '../errors.js'
import { redact } from '../redis/redact.js'

/**
 * The one base command: renders errors people can act on (message + hint, exit 1) apart from
 * bugs (stack, exit 2), and never lets a Redis password reach the terminal or `--json`.
 */
export abstract class BaseCommand extends Command {
  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    // oclif's own errors (bad flags, --help, exit) keep their rendering.
    if (error.oclif !== undefined && !(error instanceof EventspineError)) return super.catch(error)
    const json = this.jsonEnabled()
    if (error instanceof EventspineError && error.userFixable) {
      const body = { error: { code: error.code, message: redact(error.message), hint: error.hint ? redact(error.hint) : undefined } }
      if (json) this.logJson(body)
      else {
        process.stderr.write(`Error: ${redact(error.message)}\n`)
        if (error.hint) process.stderr.write(`  ${redact(error.hint)}\n`)
      }
      this.exit(1)
    }
    const code = error instanceof EventspineError ? error.code : 'E_UNEXPECTED'
    const stack = redact(error.stack ?? String(error))
    if (json) this.logJson({ error: { code, message: redact(error.message), stack } })
    else {
      process.stderr.write(`Unexpected error (${code}): this is a bug in eventspine; please report it with what follows.\n${stack}\n`)
    }
    this.exit(2)
  }
}
