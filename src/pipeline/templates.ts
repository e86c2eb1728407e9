import { normaliseColumn, type TemplateSpec } from './profiles.js'
import type { Issue } from './types.js'

/**
 * The FinDatEx templates (EMT, EPT) are read by version: the version column says which
 * columns a file must carry, filled on every row (`template-mandatory-field`); an unknown or
 * mixed version is `template-version`; a value outside its code list is `code-list`. What each
 * version requires is profile data, so a new template version is a profile change.
 */
export function templateProblems(header: readonly string[], rows: readonly Record<string, string>[], template: TemplateSpec): Issue[] {
  const byKey = new Map(header.map((h) => [normaliseColumn(h), h]))
  const column = (name: string): string | undefined => byKey.get(normaliseColumn(name))
  const versionColumn = column(template.versionColumn)
  if (versionColumn === undefined) {
    return [{ column: template.versionColumn, rule: 'template-version', message: `the file has no ${template.versionColumn} column, so its template version is unknown` }]
  }
  const versions = [...new Set(rows.map((r) => (r[versionColumn] ?? '').trim()))]
  const known = Object.keys(template.versions)
  const version = versions[0] ?? ''
  const spec = template.versions[version]
  if (versions.length !== 1 || spec === undefined) {
    return [
      {
        column: versionColumn,
        value: versions.join(','),
        rule: 'template-version',
        message: versions.length === 1 ? `template version "${version}" is not one this profile reads (${known.join(', ')})` : `rows carry different template versions (${versions.join(', ')})`,
      },
    ]
  }
  const out: Issue[] = []
  for (const name of spec.required) {
    const have = column(name)
    if (have === undefined) {
      out.push({ column: name, rule: 'template-mandatory-field', message: `${name} is mandatory in template version ${version} and missing from the header` })
      continue
    }
    rows.forEach((r, i) => {
      if ((r[have] ?? '').trim() === '') out.push({ row: i + 1, column: name, rule: 'template-mandatory-field', message: `${name} is mandatory in template version ${version} and empty` })
    })
  }
  for (const [name, allowed] of Object.entries(template.codeLists ?? {})) {
    const have = column(name)
    if (have === undefined) continue
    const ok = new Set(allowed.map((v) => v.toLowerCase()))
    rows.forEach((r, i) => {
      const value = (r[have] ?? '').trim()
      if (value !== '' && !ok.has(value.toLowerCase())) {
        out.push({ row: i + 1, column: name, value, rule: 'code-list', message: `"${value}" is not in the code list of ${name} (${allowed.join(', ')})` })
      }
    })
  }
  return out
}
