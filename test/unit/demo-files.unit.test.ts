import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { newChainMemory, runChain } from '../../src/pipeline/chain.js'
import { demoFileList } from '../../src/pipeline/host/session.js'
import { defaultProfilesDir, defaultReferenceDir } from '../../src/pipeline/paths.js'
import { loadProfiles } from '../../src/pipeline/profiles.js'
import { loadReferenceData } from '../../src/pipeline/reference.js'

describe('pipeline up --demo', () => {
  it('delivers a FundsXML, an EMT and an openfunds file, and rejects one of each with its rule', async () => {
    const profiles = loadProfiles(defaultProfilesDir())
    const reference = loadReferenceData(defaultReferenceDir())
    const memory = newChainMemory()
    const endings = new Map<string, string>()
    for (const [i, file] of (await demoFileList()).entries()) {
      const r = runChain(file.name, readFileSync(file.path), {
        profiles,
        reference,
        now: new Date('2026-11-25T18:00:00Z'),
        receivedAt: new Date('2026-11-25T07:30:00Z'),
        correlationId: `demo-${i}`,
        memory,
      })
      const provider = r.outcome === 'delivered' ? r.validated.provider : ''
      endings.set(file.name, r.outcome === 'rejected' ? `rejected ${r.stage} ${r.reasons.map((x) => x.rule).join(',')}` : `${r.outcome} ${provider}`)
    }
    expect(endings.get('fundsxml-nav-2026-11-24.xml')).toBe('delivered fundsxml')
    expect(endings.get('emt-2026-11-24.csv')).toBe('delivered emt')
    expect(endings.get('openfunds-nav-2026-11-24.csv')).toBe('delivered openfunds')
    expect(endings.get('fundsxml-nav-net-assets-off.xml')).toBe('rejected validate class-net-assets-sum')
    expect(endings.get('emt-missing-ongoing-costs.csv')).toBe('rejected ingest template-mandatory-field')
    expect(endings.get('openfunds-nav-shares-off.csv')).toBe('rejected validate nav-shares-net-assets')
  })
})
