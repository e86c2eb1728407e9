import type { AdoptionReport } from '../pipeline/adoption.js'

const pct = (share: number) => `${Math.round(share * 100)}%`
const list = (versions: readonly number[]) => versions.map((v) => `v${v}`).join(', ')

/** `pipeline schema adoption`'s report, one block per type. */
export function adoptionLines(r: AdoptionReport): string[] {
  const lines = [`Contract versions, entries ${r.window.from} .. ${r.window.to}`]
  if (r.types.length === 0) lines.push('  no event type with entries or registered readers')
  for (const t of r.types) {
    const versions = Object.entries(t.appended).map(([v, n]) => `v${v} ${n}`).join(', ') || 'none'
    lines.push('', `${t.type} (latest v${t.latest}): appended ${versions}${t.dual > 0 ? ` (${t.dual} dual-published copies)` : ''}`)
    for (const [producer, byVersion] of Object.entries(t.producers)) lines.push(`  producer ${producer}: ${Object.entries(byVersion).map(([v, n]) => `v${v} ${n}`).join(', ')}`)
    for (const reader of t.readers) {
      const how = [
        reader.native.length > 0 ? `native ${list(reader.native)}` : '',
        reader.upcast.length > 0 ? `through an upcaster ${list(reader.upcast)}` : '',
        reader.otherCopies.length > 0 ? `skips the other copy ${list(reader.otherCopies)}` : '',
        reader.unreadable.length > 0 ? `CANNOT READ ${list(reader.unreadable)}` : '',
      ].filter((s) => s !== '')
      lines.push(`  reader ${reader.consumer}: written for v${reader.reads}${reader.declared ? '' : ' (latest)'}${reader.gone ? ', gone' : ''}${how.length > 0 ? `; ${how.join('; ')}` : ''}`)
      if (reader.warning !== undefined) lines.push(`    WARNING: ${reader.warning}`)
    }
    const adoption = Object.entries(t.adoption).map(([v, share]) => `v${v} ${pct(share)}`).join(', ')
    if (t.readers.length > 0) lines.push(`  adoption (share of ${t.readers.length} readers): ${adoption}`)
  }
  return lines
}
