import type { Redis } from 'ioredis'

/**
 * Redis's own clock, in ms. Entry ids are Redis time, so a window "the last 10 minutes" is
 * measured on this clock: a client whose clock is off (a laptop, a CI box with a moved clock)
 * would otherwise pick the wrong entries.
 */
export async function redisTimeMs(redis: Pick<Redis, 'time'>): Promise<number> {
  const [seconds, micros] = await redis.time()
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}
