import { newChainMemory, runChain } from '../pipeline/chain.js'
import { loadProfiles } from '../pipeline/profiles.js'
import { defaultProfilesDir } from '../pipeline/paths.js'
import { loadReferenceData } from '../pipeline/reference.js'
import { dayStartMs, LAST_MS_OF_DAY } from './calendar.js'
import { compareOutcome, distinctSorted, type Actual, type Mismatch } from './outcome.js'
import { readDayFile, type DayOnDisk } from './store.js'

/**
 * Runs every file of a day through the pure stage chain (no bus), in arrival order, with the
 * day's reference tables and the clock at the end of the day: the oracle the manifest is
 * checked against, and what the load test's stages must agree with.
 */
export function checkDayWithChain(day: DayOnDisk): { actual: Map<string, Actual>; mismatches: Mismatch[] } {
  const profiles = loadProfiles(defaultProfilesDir())
  const reference = loadReferenceData(day.referenceDir)
  const memory = newChainMemory()
  const start = dayStartMs(day.manifest.date)
  const names = new Map<string, string>() // correlation id -> file name
  const actual = new Map<string, Actual>()
  const mismatches: Mismatch[] = []
  for (const [i, file] of day.manifest.files.entries()) {
    const correlationId = `c${i}`
    names.set(correlationId, file.name)
    const result = runChain(file.name, readDayFile(day, file.name), {
      profiles,
      reference,
      now: new Date(start + LAST_MS_OF_DAY),
      receivedAt: new Date(start + file.arrivalMs),
      correlationId,
      memory,
    })
    const got: Actual =
      result.outcome === 'delivered'
        ? { outcome: 'delivered', flags: distinctSorted(result.scored.flags.map((x) => x.rule)) }
        : result.outcome === 'rejected'
          ? { outcome: 'rejected', stage: result.stage, rules: distinctSorted(result.reasons.map((r) => r.rule)) }
          : { outcome: 'duplicate', of: names.get(result.firstCorrelationId) ?? result.firstCorrelationId }
    actual.set(file.name, got)
    const mismatch = compareOutcome(file, got)
    if (mismatch !== null) mismatches.push(mismatch)
  }
  return { actual, mismatches }
}
