import { Command, Errors, ux } from '@oclif/core'
import { EventspineError, type ErrorCode } from '../errors.js'
import { replyError } from '../redis/errors.js'
import { redact } from '../redis/redact.js'
import { terminalSafeLines } from '../ui/safe-text.js'
import { FlagError } from './flags.js'

type Thrown = Error & { exitCode?: number; oclif?: { exit?: number } }

/**
 * The one base command: renders errors people can act on (message + hint; exit 1, or 2 for a
 * bad flag value or another usage error, `details.usage`) apart from bugs (stack, exit 2), and
 * never lets a Redis password, or a control character a user sent, reach the terminal or
 * `--json`. An error reply of Redis is not a bug of ours: it is shown as what failed and what to do.
 */
export abstract class BaseCommand extends Command {
  protected override async catch(thrown: Thrown): Promise<unknown> {
    const error: Thrown = replyError(thrown) ?? thrown
    const json = this.jsonEnabled()
    if (error instanceof FlagError) this.fail({ code: 'E_FLAG', message: error.reason, hint: error.hint }, 2)
    if (error.oclif !== undefined && !(error instanceof EventspineError)) {
      // oclif's own errors (unknown or missing flags, --help, exit) keep its rendering; under --json it would exit 1.
      if (json && !(error instanceof Errors.ExitError) && error.oclif.exit !== undefined && error.oclif.exit !== 0) {
        this.fail({ code: 'E_FLAG', message: error.message, hint: undefined }, error.oclif.exit)
      }
      return super.catch(error)
    }
    if (error instanceof EventspineError && error.userFixable) this.fail(error, error.details?.['usage'] === true ? 2 : 1)
    const code = error instanceof EventspineError ? error.code : 'E_UNEXPECTED'
    const stack = redact(error.stack ?? String(error))
    if (json) this.logJson({ error: { code, message: redact(error.message), stack } })
    else {
      process.stderr.write(`Unexpected error (${code}): this is a bug in eventspine; please report it with what follows.\n${terminalSafeLines(stack)}\n`)
    }
    this.exit(2)
  }

  private fail(error: { code: ErrorCode; message: string; hint: string | undefined }, exit: number): never {
    const hint = error.hint ? redact(error.hint) : undefined
    if (this.jsonEnabled()) this.logJson({ error: { code: error.code, message: redact(error.message), hint } })
    else {
      process.stderr.write(`Error: ${terminalSafeLines(redact(error.message))}\n`)
      if (hint) process.stderr.write(`  ${terminalSafeLines(hint)}\n`)
    }
    this.exit(exit)
  }

  /**
   * Every `--json` answer (results and errors) goes out here. JSON.stringify escapes C0 controls
   * but not DEL, C1 or bidi controls: those get the same JSON escape, so the JSON means the same
   * (its line breaks are all between values: one inside a string is escaped already).
   */
  override logJson(json: unknown): void {
    ux.stdout(ux.colorizeJson(terminalSafeLines(JSON.stringify(json, null, 2) ?? ''), { pretty: false, theme: this.config.theme?.json }))
  }
}
