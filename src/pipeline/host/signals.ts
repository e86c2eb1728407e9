const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * Resolves with the first SIGINT, SIGTERM or SIGHUP, so the caller can drain before exiting.
 * While the handlers are installed, a managed redis-server is left to the caller's release().
 * A second signal while draining exits at once (code 130).
 */
export function untilStopSignal(): { readonly signal: Promise<NodeJS.Signals>; dispose(): void } {
  let received = false
  let resolveSignal: (signal: NodeJS.Signals) => void = () => {}
  const signal = new Promise<NodeJS.Signals>((resolve) => {
    resolveSignal = resolve
  })
  const onSignal = (name: NodeJS.Signals) => {
    if (received) {
      process.stderr.write(`\n${name} again: exiting without waiting for the consumers to drain.\n`)
      process.exit(130)
    }
    received = true
    resolveSignal(name)
  }
  for (const name of SIGNALS) process.on(name, onSignal)
  return {
    signal,
    dispose() {
      for (const name of SIGNALS) process.off(name, onSignal)
    },
  }
}

/**
 * For runs that delete what they made when they end (`load`, `fuzz`): the first SIGINT, SIGTERM
 * or SIGHUP aborts `signal`, so the run stops early and cleans up as a finished one does; a
 * second exits at once (as {@link untilStopSignal}).
 */
export function abortOnStopSignal(onStop: (name: NodeJS.Signals) => void): { readonly signal: AbortSignal; dispose(): void } {
  const controller = new AbortController()
  const stop = untilStopSignal()
  void stop.signal.then((name) => {
    onStop(name)
    controller.abort(new Error(`interrupted by ${name}`))
  })
  return { signal: controller.signal, dispose: () => stop.dispose() }
}
