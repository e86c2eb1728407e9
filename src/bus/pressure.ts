import type { Bus } from './bus.js'

export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('OOM')
}

/** Redis at maxmemory refuses writes: slow down and say so, never drop. */
export async function retryWhileOutOfMemory<T>(bus: Bus, attempt: () => Promise<T>): Promise<T> {
  let delay = 100
  let warned = false
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      if (!isOutOfMemory(error)) throw error
      if (!warned) {
        bus.warn('Redis is out of memory (maxmemory reached): publishing is paused until consumers catch up or memory is freed; nothing is dropped.')
        warned = true
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, 2_000)
    }
  }
}
