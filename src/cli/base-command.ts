import { Command, Errors } from '@oclif/core'
import { EventspineError } from '../errors.js'
import { replyError } from '../redis/errors.js'
import { redact } from '../redis/redact.js'

type Thrown = Error & { exitCode?: number; oclif?: { exit?: number }; suggestions?: string[] }

/**
 * The one base command: renders errors people can act on (message + hint, exit 1) apart from
 * bugs (stack, exit 2), and never lets a Redis password reach the terminal or `--json`. Usage
 * errors (bad flags) keep oclif's rendering and exit 2. An error reply of Redis is not a bug
 * of ours: it is shown as what failed and what to do.
 */
export abstract class BaseCommand extends Command {
  protected override async catch(thrown: Thrown): Promise<unknown> {
    const error: Thrown = replyError(thrown) ?? thrown
    if (error.oclif !== undefined && !(error instanceof EventspineError)) {
      // oclif's own errors (bad flags, --help, exit). Under --json oclif would print them but exit 1.
      if (this.jsonEnabled() && !(error instanceof Errors.ExitError) && error.oclif.exit !== undefined && error.oclif.exit !== 0) {
        // (oclif wraps a flag's parse error in "Parsing --flag \n\t...\nSee more help with --help".)
        const message = error.message.replace(/^Parsing --\S+ \n\t/, '').replace(/\nSee more help with --help$/, '')
        this.logJson({ error: { code: 'E_FLAG', message: redact(message), hint: error.suggestions?.[0] } })
        this.exit(error.oclif.exit)
      }
      return super.catch(error)
    }
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
