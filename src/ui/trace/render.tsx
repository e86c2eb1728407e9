import { render, renderToString } from 'ink'
import type { Trace } from '../../pipeline/inspect/index.js'
import { TraceView } from './TraceView.js'

/** The journey as text (one-shot `pipeline trace`). Wide enough that rows are not cut early. */
export function traceText(trace: Trace, options: { color: boolean; columns?: number }): string {
  return renderToString(<TraceView trace={trace} color={options.color} />, { columns: options.columns ?? 160 })
}

export interface TraceScreen {
  update(trace: Trace): void
  /** Draws the last state without the "following" note and releases the terminal. */
  done(): void
}

/**
 * A live view for `--follow`: on a terminal the first update mounts it and later ones redraw
 * in place; into a pipe or file each change is printed as a block of its own, with no cursor
 * movement codes.
 */
export function traceScreen(options: { color: boolean; stdout?: NodeJS.WriteStream }): TraceScreen {
  let app: ReturnType<typeof render> | undefined
  let last: Trace | undefined
  const stdout = options.stdout ?? process.stdout
  if (!stdout.isTTY) {
    return {
      update: (trace) => void stdout.write(`${traceText(trace, { color: false })}\n\n`),
      done: () => {},
    }
  }
  return {
    update(trace) {
      last = trace
      const view = <TraceView trace={trace} color={options.color} following />
      if (app) app.rerender(view)
      else app = render(view, { stdout, patchConsole: false, exitOnCtrlC: false })
    },
    done() {
      if (app && last) app.rerender(<TraceView trace={last} color={options.color} />)
      app?.unmount()
    },
  }
}
