/** Calendar helpers for one generated day (UTC, Monday to Friday; no holiday calendar). */

const DAY_MS = 86_400_000

export function isIsoDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false
  // 2026-13-45 is no time at all (toISOString would throw); 2026-02-30 rolls over to March.
  const time = Date.parse(`${value}T00:00:00Z`)
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === value
}

/** The business day `n` business days before ISO day `day`. */
export function businessDaysBefore(day: string, n: number): string {
  let t = Date.parse(`${day}T00:00:00Z`)
  let left = n
  while (left > 0) {
    t -= DAY_MS
    const weekday = new Date(t).getUTCDay()
    if (weekday !== 0 && weekday !== 6) left--
  }
  return new Date(t).toISOString().slice(0, 10)
}

/** Midnight UTC of `day`, in ms since the epoch. */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`)
}

/** Today's UTC date (only where no date is given: never inside generated content). */
export function todayIso(): string {
  return new Date().toISOString().slice(0, 10)
}

export const HOUR_MS = 3_600_000
export const LAST_MS_OF_DAY = DAY_MS - 1

/** `HH:MM:SS` of an offset into the day. */
export function clockOf(offsetMs: number): string {
  return new Date(offsetMs).toISOString().slice(11, 19)
}
