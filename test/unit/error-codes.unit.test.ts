import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/errors.js'

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return /\.tsx?$/.test(name) ? [path] : []
  })
}

const registered = Object.keys(ERROR_CODES)

describe('the error registry', () => {
  it('has no dead entries: each code is used in src/ outside the registry', () => {
    const code = sources('src')
      .filter((path) => !path.endsWith('error-codes.ts'))
      .map((path) => readFileSync(path, 'utf8'))
      .join('\n')
    const unused = registered.filter((c) => !code.includes(`'${c}'`))
    expect(unused).toEqual([])
  })

  it('declares every code README documents', () => {
    // \b: MAX_FILE_BYTES or PIPELINE_REDIS_URL are not codes.
    const documented = [...new Set(readFileSync('README.md', 'utf8').match(/\bE_[A-Z_]+\b/g) ?? [])]
    expect(documented.length).toBeGreaterThan(0)
    expect(documented.filter((c) => !registered.includes(c))).toEqual([])
  })

  it('says what each code means', () => {
    for (const [code, meaning] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^E_[A-Z]+(_[A-Z]+)*$/)
      expect(meaning.length, code).toBeGreaterThan(20)
    }
  })
})
