/** Date layouts the mapping profiles may name. */
export type DateFormat = 'YYYY-MM-DD' | 'DD/MM/YYYY' | 'MM/DD/YYYY' | 'DD.MM.YYYY' | 'YYYYMMDD'

export const DATE_FORMATS: readonly DateFormat[] = ['YYYY-MM-DD', 'DD/MM/YYYY', 'MM/DD/YYYY', 'DD.MM.YYYY', 'YYYYMMDD']

const PATTERNS: Record<DateFormat, { re: RegExp; order: readonly ['y' | 'm' | 'd', 'y' | 'm' | 'd', 'y' | 'm' | 'd'] }> = {
  'YYYY-MM-DD': { re: /^(\d{4})-(\d{1,2})-(\d{1,2})$/, order: ['y', 'm', 'd'] },
  'DD/MM/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: ['d', 'm', 'y'] },
  'MM/DD/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: ['m', 'd', 'y'] },
  'DD.MM.YYYY': { re: /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, order: ['d', 'm', 'y'] },
  YYYYMMDD: { re: /^(\d{4})(\d{2})(\d{2})$/, order: ['y', 'm', 'd'] },
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0')
}

/** Parses `raw` in `format` into ISO `YYYY-MM-DD`; null when it does not match or is no real day. */
export function parseDate(raw: string, format: DateFormat): string | null {
  const pattern = PATTERNS[format]
  const match = pattern.re.exec(raw.trim())
  if (match === null) return null
  const parts = { y: 0, m: 0, d: 0 }
  pattern.order.forEach((name, i) => {
    parts[name] = Number(match[i + 1])
  })
  const date = new Date(Date.UTC(parts.y, parts.m - 1, parts.d))
  // Date.UTC rolls 31/02 over to March: a round trip catches impossible days.
  if (date.getUTCFullYear() !== parts.y || date.getUTCMonth() !== parts.m - 1 || date.getUTCDate() !== parts.d) return null
  return `${pad(parts.y, 4)}-${pad(parts.m, 2)}-${pad(parts.d, 2)}`
}

/** The UTC calendar day of an instant, as `YYYY-MM-DD`. */
export function isoDay(instant: Date): string {
  return instant.toISOString().slice(0, 10)
}

/** The latest calendar day anywhere on Earth at `now` (UTC+14, Kiribati), as `YYYY-MM-DD`. */
export function latestDayOnEarth(now: Date): string {
  return isoDay(new Date(now.getTime() + 14 * 3_600_000))
}

/**
 * True when ISO day `day` has not begun anywhere yet. Not the UTC day: a Tokyo or Sydney fund
 * prices "today" while it is still yesterday in UTC, and that NAV is not from the future.
 */
export function isFutureDay(day: string, now: Date): boolean {
  return day > latestDayOnEarth(now)
}

function dayNumber(day: string): number {
  return Math.floor(Date.parse(`${day}T00:00:00Z`) / 86_400_000)
}

/**
 * Business days (Monday to Friday; no holiday calendar) from ISO day `from` to ISO day `to`:
 * 0 when the same day, 1 for the previous business day (Friday -> Monday is 1). Negative when
 * `from` is after `to`.
 */
export function businessDaysBetween(from: string, to: string): number {
  const a = dayNumber(from)
  const b = dayNumber(to)
  if (a > b) return -businessDaysBetween(to, from)
  let count = 0
  for (let n = a + 1; n <= b; n++) {
    const weekday = (n + 4) % 7 // 1970-01-01 was a Thursday (4); 0 = Sunday
    if (weekday !== 0 && weekday !== 6) count++
  }
  return count
}
