import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ingestFile } from '../../src/pipeline/ingest.js'
import { receivedEvent } from '../../src/pipeline/intake.js'
import { mapFile } from '../../src/pipeline/mapping.js'
import { defaultProfilesDir, packageRoot } from '../../src/pipeline/paths.js'
import { findProfile, GENERIC_PROFILE, loadProfiles } from '../../src/pipeline/profiles.js'
import type { IngestedPayload, MappedPayload } from '../../src/pipeline/types.js'

const profiles = loadProfiles(defaultProfilesDir())

function ingested(name: string, bytes: Uint8Array): IngestedPayload {
  const r = ingestFile(receivedEvent(name, bytes, { receivedAt: new Date('2026-11-25T07:30:00Z') }).payload, profiles)
  if (!r.ok) throw new Error(`${name}: ${JSON.stringify(r.reasons)}`)
  return r.payload
}

function mapped(path: string): MappedPayload {
  const file = ingested(path, readFileSync(join(packageRoot(), 'fixtures', path)))
  const profile = findProfile(file.provider, profiles)
  if (profile === null) throw new Error(`no profile ${file.provider}`)
  return mapFile(file, profile)
}

describe('mapping profiles are data', () => {
  it('ships at least three providers with different date and number formats', () => {
    const byName = new Map(profiles.map((p) => [p.provider, p]))
    expect([...byName.keys()].sort()).toEqual(expect.arrayContaining(['atlas', 'lumen', 'northwind']))
    // The standards (FundsXML, EMT/EPT, openfunds) all fix ISO dates and dot decimals; the layouts differ.
    const layouts = profiles.filter((p) => p.standard === undefined)
    const formats = new Set(layouts.map((p) => `${p.dateFormat}|${p.decimalSeparator}|${p.thousandsSeparator}`))
    expect(formats.size).toBe(layouts.length)
  })
})

describe('northwind: ISO dates, dot decimals', () => {
  it('maps a NAV file to canonical records, reporting the unknown column', () => {
    const m = mapped('inbox/northwind-nav-2026-11-24.csv')
    expect(m.unmappedColumns).toEqual(['Source System'])
    expect(m.records[0]).toMatchObject({
      row: 1,
      fields: {
        isin: 'LU1842936517',
        shareClassName: 'Meridian Global Equity Fund A EUR Acc',
        navDate: '2026-11-24',
        nav: 148.2731,
        currency: 'EUR',
        lei: '222100K6QL2V31RXDK41',
        totalNetAssets: 1284551203.55,
        sharesOutstanding: 8663414,
      },
      raw: { nav: '148.2731', navDate: '2026-11-24' },
    })
  })
  it('maps holdings with weights in percent', () => {
    const m = mapped('inbox/northwind-holdings-2026-11-24.csv')
    expect(m.kind).toBe('holdings')
    expect(m.records[0]?.fields).toMatchObject({ fundIsin: 'LU1842936517', holdingIsin: 'US0378331005', weight: 12.45, asOfDate: '2026-11-24' })
  })
})

describe('lumen: semicolons, DD/MM/YYYY, 1.234,56', () => {
  it('maps French columns, dates and comma decimals', () => {
    const m = mapped('inbox/lumen-nav-24112026.csv')
    expect(m.unmappedColumns).toEqual([])
    expect(m.records[0]?.fields).toMatchObject({ isin: 'FR001400K3L2', navDate: '2026-11-24', nav: 1234.56, totalNetAssets: 518203911.4, sharesOutstanding: 419748 })
    expect(m.records[0]?.raw.nav).toBe('1.234,5600')
  })
  it('maps holdings with comma weights', () => {
    const m = mapped('inbox/lumen-holdings-24112026.csv')
    expect(m.records[0]?.fields).toMatchObject({ fundIsin: 'FR001400K3L2', holdingIsin: 'FR0000121014', weight: 12.4, asOfDate: '2026-11-24' })
  })
  it('maps the Windows-1252 reference file with accents intact', () => {
    const m = mapped('faulty/lumen-reference-latin1.csv')
    expect(m.records.map((r) => r.fields.manager)).toContain("Société de Gestion Côte d'Azur")
  })
})

describe('atlas: MM/DD/YYYY, quoted 1,234.56', () => {
  it('maps US columns, dates and grouped thousands', () => {
    const m = mapped('inbox/atlas-nav-11-24-2026.csv')
    expect(m.unmappedColumns).toEqual(['Distribution Flag'])
    expect(m.records[0]?.fields).toMatchObject({ isin: 'US38147Q6272', navDate: '2026-11-24', nav: 58.91, totalNetAssets: 4120775301.12, sharesOutstanding: 69950353 })
  })
  it('maps reference files', () => {
    const m = mapped('inbox/atlas-reference.csv')
    expect(m.records[0]?.fields).toMatchObject({ isin: 'US38147Q6272', lei: '5493007HZQ4PB2K1WT26', domicile: 'US', manager: 'Granite Peak Advisors LLC' })
  })
})

describe('generic JSON and normalisation', () => {
  it('maps canonical names whatever their case', () => {
    const file = ingested('x.json', Buffer.from(JSON.stringify([{ ISIN: ' us0378331005 ', NavDate: '2026-11-24', NAV: '1.5', Currency: 'usd', Note: 'x' }])))
    const m = mapFile(file, GENERIC_PROFILE)
    expect(m.records[0]?.fields).toMatchObject({ isin: 'US0378331005', navDate: '2026-11-24', nav: 1.5, currency: 'USD', lei: null })
    expect(m.unmappedColumns).toEqual(['Note'])
    expect(m.mappedFields).toEqual(['isin', 'navDate', 'nav', 'currency'])
  })
  it('turns unparseable values into null and keeps the raw text', () => {
    const file = ingested('x.csv', Buffer.from('ISIN,Share Class,NAV Date,NAV,Currency\nUS0378331005,A,24/11/2026,n/a,USD\n'))
    const m = mapFile(file, findProfile('northwind', profiles) ?? GENERIC_PROFILE)
    expect(m.records[0]?.fields).toMatchObject({ navDate: null, nav: null })
    expect(m.records[0]?.raw).toMatchObject({ navDate: '24/11/2026', nav: 'n/a' })
  })
})
