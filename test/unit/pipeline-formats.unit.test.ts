import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ingestFile } from '../../src/pipeline/ingest.js'
import { receivedEvent } from '../../src/pipeline/intake.js'
import { mapFile } from '../../src/pipeline/mapping.js'
import { defaultProfilesDir, packageRoot } from '../../src/pipeline/paths.js'
import { findProfile, loadProfiles, parseProfile } from '../../src/pipeline/profiles.js'
import type { IngestedPayload, Issue } from '../../src/pipeline/types.js'
import { validateFile } from '../../src/pipeline/validate.js'
import { MAX_XML_DEPTH, rootElement, xmlDepth } from '../../src/pipeline/xml.js'

const profiles = loadProfiles(defaultProfilesDir())
const fixture = (path: string): string => readFileSync(join(packageRoot(), 'fixtures', path), 'utf8')
const NOW = new Date('2026-11-25T18:00:00Z')

type Ingested = { ok: true; payload: IngestedPayload } | { ok: false; reasons: readonly Issue[] }
const ingest = (name: string, text: string): Ingested => ingestFile(receivedEvent(name, Buffer.from(text), { receivedAt: new Date('2026-11-25T07:30:00Z') }).payload, profiles)
const rules = (r: Ingested): string[] => (r.ok ? [] : [...new Set(r.reasons.map((x) => x.rule))])
function validated(name: string, text: string) {
  const r = ingest(name, text)
  if (!r.ok) throw new Error(`ingest rejected ${name}: ${JSON.stringify(r.reasons)}`)
  const profile = findProfile(r.payload.provider, profiles)
  if (profile === null) throw new Error('no profile')
  return validateFile(mapFile(r.payload, profile), { now: NOW })
}

const NAV_XML = fixture('inbox/fundsxml-nav-2026-11-24.xml')

describe('FundsXML 4', () => {
  it('is recognised by its root element and read as one NAV record per share class', () => {
    const r = validated('anything.dat', NAV_XML)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.payload).toMatchObject({ provider: 'fundsxml', kind: 'nav', rowCount: 2 })
    expect(r.payload.records[1]?.fields).toMatchObject({
      isin: 'LU2604417829',
      nav: 1012.447,
      navDate: '2026-11-24',
      currency: 'EUR',
      lei: '222100ELMSTEAD0FX448',
      sharesOutstanding: 85000,
      classNetAssets: 86057995,
      fundNetAssets: 216347745,
      fundNavDate: '2026-11-24',
      figi: 'BBG01HQ7TX58',
      cfi: 'CIODLU',
    })
  })

  it('refuses a share class FIGI with a wrong check digit and a CFI outside category C', () => {
    const bad = validated('n.xml', NAV_XML.replace('BBG01HQ7TX58', 'BBG01HQ7TX57').replace('CIOGLU', 'ESVUFR'))
    expect(bad.ok ? [] : bad.payload.reasons.map((x) => `${x.row}:${x.rule}`)).toEqual(['1:cfi-category', '2:figi-check-digit'])
  })

  it('reads portfolio positions as holdings, naming each security through AssetMasterData', () => {
    const xml = `<?xml version="1.0"?>
<FundsXML4><Funds><Fund><Identifiers><LEI>222100ELMSTEAD0FX448</LEI></Identifiers>
<FundDynamicData><Portfolios><Portfolio><NavDate>2026-11-24</NavDate><Positions>
<Position><UniqueID>A1</UniqueID><Currency>EUR</Currency><TotalValue><Amount ccy="EUR">600.00</Amount></TotalValue><TotalPercentage>60.4</TotalPercentage></Position>
<Position><UniqueID>A2</UniqueID><Currency>EUR</Currency><TotalValue><Amount ccy="EUR">400.00</Amount></TotalValue><TotalPercentage>40.3</TotalPercentage></Position>
</Positions></Portfolio></Portfolios></FundDynamicData>
<SingleFund><ShareClasses><ShareClass><Identifiers><ISIN>LU2604417712</ISIN></Identifiers></ShareClass></ShareClasses></SingleFund>
</Fund></Funds>
<AssetMasterData><Asset><UniqueID>A2</UniqueID><Identifiers><ISIN>US5949181045</ISIN></Identifiers><Name>Microsoft Corp &amp; Co</Name><AssetType>EQ</AssetType></Asset>
<Asset><UniqueID>A1</UniqueID><Identifiers><ISIN>US0378331005</ISIN></Identifiers><Name>Apple Inc.</Name><AssetType>EQ</AssetType></Asset></AssetMasterData>
</FundsXML4>`
    const r = validated('positions.xml', xml)
    expect(r.ok ? [] : r.payload.reasons).toEqual([])
    if (!r.ok) return
    expect(r.payload.kind).toBe('holdings')
    expect(r.payload.records.map((x) => [x.fields.fundIsin, x.fields.holdingIsin, x.fields.holdingName, x.fields.weight, x.fields.assetType])).toEqual([
      ['LU2604417712', 'US0378331005', 'Apple Inc.', 60.4, 'EQ'],
      ['LU2604417712', 'US5949181045', 'Microsoft Corp & Co', 40.3, 'EQ'],
    ])
    // 100.7%: within the FundsXML tolerance of 100 +/- 1; 102% is not.
    const off = validated('positions.xml', xml.replace('40.3', '41.7'))
    expect(off.ok ? [] : off.payload.reasons.map((x) => x.rule)).toEqual(['position-percentages'])
  })

  it('refuses a document in another namespace, and one that is not well-formed, by rule', () => {
    expect(rules(ingest('n.xml', NAV_XML.replace('<FundsXML4 ', '<FundsXML4 xmlns="urn:example:not-fundsxml" ')))).toEqual(['xml-namespace'])
    expect(rules(ingest('n.xml', NAV_XML.replace('</SingleFund>', '')))).toEqual(['xml-syntax'])
    expect(rules(ingest('n.xml', '<Portfolio><Fund/></Portfolio>'))).toEqual(['unknown-provider'])
  })

  it('refuses a billion-laughs document without expanding anything', () => {
    const lol = ['<?xml version="1.0"?>', '<!DOCTYPE lolz [', '<!ENTITY lol "lol">']
    for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`)
    lol.push(']>', '<FundsXML4>&lol9;</FundsXML4>')
    const r = ingest('laughs.xml', lol.join('\n'))
    expect(rules(r)).toEqual(['xml-doctype'])
  })

  it('refuses external entities (XXE)', () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE f [<!ENTITY x SYSTEM "file:///etc/passwd">]><FundsXML4>&x;</FundsXML4>'
    expect(rules(ingest('xxe.xml', xxe))).toEqual(['xml-doctype'])
    // Without a DOCTYPE an undeclared entity is never looked up: it is not well-formed text to us.
    const r = ingest('amp.xml', NAV_XML.replace('Elmstead Euro Short Duration Bond Fund A EUR Acc', '&x; Fund'))
    expect(r.ok ? [] : rules(r)).not.toContain('xml-doctype')
  })

  it('refuses a 200,000-deep document by rule, in one pass and without recursion', () => {
    const deep = `${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}`
    expect(xmlDepth(deep)).toBe(MAX_XML_DEPTH + 1)
    expect(rules(ingest('deep.xml', deep))).toEqual(['xml-too-deep'])
    expect(xmlDepth('<a><b x="1>2"/><!-- <c><d> --><![CDATA[<e>]]><f></f></a>')).toBe(2)
  })

  it('reads the root element and its namespace, prefixed or not', () => {
    expect(rootElement('<?xml version="1.0"?><!-- <x> --><f:FundsXML4 xmlns:f="urn:a" b="c">')).toEqual({ name: 'FundsXML4', namespace: 'urn:a' })
    expect(rootElement('<FundsXML4 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">')).toEqual({ name: 'FundsXML4', namespace: '' })
  })
})

const EMT = fixture('inbox/emt-2026-11-24.csv')

describe('EMT and EPT, read by version', () => {
  it('reads an EMT V4.2 file as reference data without domicile or asset class', () => {
    const r = validated('emt.csv', EMT)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.payload).toMatchObject({ provider: 'emt', kind: 'reference', rowCount: 2 })
    expect(r.payload.records[0]?.fields).toMatchObject({ isin: 'IE0009KQ7D39', manager: 'Quayside Capital Ltd', lei: '635400QUAYSIDE7M2R40', ongoingCosts: 0.0165, domicile: null })
  })

  it('requires the fields of the file\'s own version: V4.0 does not need ongoing costs, V4.2 does', () => {
    const empty = EMT.replace(';0.0165', ';')
    expect(rules(ingest('emt.csv', empty))).toEqual(['template-mandatory-field'])
    expect(ingest('emt.csv', empty.replaceAll('V4.2', 'V4.0')).ok).toBe(true)
    const lines = EMT.split('\r\n')
    const dropped = lines.map((l) => l.split(';').slice(0, -1).join(';')).join('\r\n')
    expect(ingest('emt.csv', dropped)).toMatchObject({ ok: false, reasons: [{ rule: 'template-mandatory-field', column: '07020_Financial_Instrument_Ongoing_Costs_Ex_Ante' }] })
  })

  it('refuses an unknown or mixed version, and values outside a code list', () => {
    expect(rules(ingest('emt.csv', EMT.replaceAll('V4.2', 'V9.9')))).toEqual(['template-version'])
    expect(rules(ingest('emt.csv', EMT.replace('V4.2', 'V4.1')))).toEqual(['template-version'])
    expect(ingest('emt.csv', EMT.replace(';1;Quayside', ';12;Quayside'))).toMatchObject({ ok: false, reasons: [{ rule: 'code-list', value: '12', row: 1 }] })
    expect(rules(ingest('emt.csv', EMT.replace(';Neutral;', ';Maybe;')))).toEqual(['code-list'])
  })

  it('checks an EPT SRI against the PRIIPs grid unless it is marked adjusted', () => {
    const ept = fixture('inbox/ept-2026-11-24.csv')
    expect(validated('ept.csv', ept).ok).toBe(true)
    const off = validated('ept.csv', ept.replace(',4,N,4,1,', ',3,N,4,1,'))
    expect(off.ok ? [] : off.payload.reasons.map((x) => x.rule)).toEqual(['sri-grid'])
    expect(validated('ept.csv', ept.replace(',4,N,4,1,', ',3,Y,4,1,')).ok).toBe(true)
    // CRM 4 lifts MRM 2 to SRI 5
    const credit = validated('ept.csv', ept.replace(',4,N,4,1,', ',2,N,2,4,'))
    expect(credit.ok ? [] : credit.payload.reasons[0]?.message).toContain('grid value 5')
    expect(rules(ingest('ept.csv', ept.replace(',4,N,4,1,', ',4,N,8,1,')))).toEqual(['code-list'])
  })
})

describe('openfunds', () => {
  const OF = fixture('inbox/openfunds-nav-2026-11-24.csv')
  it('is recognised by its field-id header and read as NAVs', () => {
    const r = validated('of.csv', OF)
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.payload).toMatchObject({ provider: 'openfunds', kind: 'nav', rowCount: 2 })
    expect(r.payload.records[0]?.fields).toMatchObject({ isin: 'LU2710355194', currency: 'EUR', navDate: '2026-11-24', nav: 57.312, classNetAssets: 137548800 })
  })
  it('refuses a file whose rows value different days', () => {
    const r = validated('of.csv', OF.replace('LU2710355202,EUR,EUR,LU,2026-11-24', 'LU2710355202,EUR,EUR,LU,2026-11-23'))
    expect(r.ok ? [] : r.payload.reasons.map((x) => x.rule)).toEqual(['nav-dates-agree'])
  })
})

describe('profiles for the standards', () => {
  it('refuses a malformed xml or template section, naming it', () => {
    const base = { provider: 'x', signatures: [], columns: {}, dateFormat: 'YYYY-MM-DD', decimalSeparator: '.', thousandsSeparator: '' }
    expect(() => parseProfile({ ...base, xml: { root: 'R', namespaces: [''], records: [{ kind: 'nav', each: 'A', columns: { a: 3 } }] } }, 'x.json')).toThrow(/xml.records/)
    expect(() => parseProfile({ ...base, template: { versionColumn: 'v', versions: { V1: {} } } }, 'x.json')).toThrow(/template.versions/)
    expect(() => parseProfile({ ...base, standard: 'iso20022' }, 'x.json')).toThrow(/standard/)
  })
})
