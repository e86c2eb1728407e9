import { describe, expect, it } from 'vitest'
import { closestName, editDistance, unknownNameError } from '../../src/names.js'

describe('closest name', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('delivr', 'deliver')).toBe(1)
    expect(editDistance('score', 'scroe')).toBe(2)
    expect(editDistance('', 'map')).toBe(3)
  })
  it('suggests a name only when the input is plausibly a typo of it', () => {
    const known = ['ingest', 'map', 'validate', 'deliver', 'nav-latest']
    expect(closestName('delivr', known)).toBe('deliver')
    expect(closestName('Validat', known)).toBe('validate')
    expect(closestName('ledger', known)).toBeUndefined()
  })
  it('is a usage error that names the closest and lists the rest', () => {
    const error = unknownNameError('E_UNKNOWN_CONSUMER', 'consumer', 'delivr', ['map', 'deliver'])
    expect(error.message).toBe('unknown consumer "delivr": did you mean deliver?')
    expect(error.hint).toBe('Known consumers: map, deliver.')
    expect(error.details).toMatchObject({ usage: true, closest: 'deliver' })
  })
})
