import type { RowDifference } from '../bus/index.js'

const WIDTH = 48

function cell(value: string | null): string {
  if (value === null) return '(missing)'
  return value.length > WIDTH ? `${value.slice(0, WIDTH - 1)}…` : value
}

/** Rows two read models disagree on, as an aligned table: key | left | right. */
export function diffTable(differences: readonly RowDifference[], names: readonly [string, string] = ['live', 'rebuilt']): string[] {
  if (differences.length === 0) return []
  const rows = [['key', names[0], names[1]], ...differences.map((d) => [d.key, cell(d.left), cell(d.right)])]
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] as string).length)))
  return rows.map((r) => `    ${r.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd()}`)
}
