export const fmtNum = (n: number) => n.toLocaleString('en-US')
export const fmtRate = (r: number | null) => (r === null ? '–/s' : `${r >= 100 ? Math.round(r) : r.toFixed(1)}/s`)
export function fmtMs(ms: number | null): string {
  if (ms === null) return '–'
  if (ms < 1) return `${ms.toFixed(2)} ms`
  if (ms < 1000) return `${Math.round(ms)} ms`
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
}
