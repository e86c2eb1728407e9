import { resolve } from 'node:path'
import { pipelineConsumers } from '../pipeline/index.js'
import { FUND_ENDINGS } from '../pipeline/source.js'
import { STAGE_NAMES, type StageName } from '../pipeline/stages/names.js'
import { EVENT } from '../pipeline/types.js'
import { EventspineError } from '../errors.js'
import { unknownNameError } from '../names.js'
import type { ConsumerPreset } from './define.js'

export interface FundPipelineOptions {
  /** Folder of mapping profiles (`*.json`), relative to the config file. Default: the shipped ones. */
  readonly profiles?: string
  /** Folder with `funds.csv` and `identifiers.csv`, relative to the config file. Default: the shipped ones. */
  readonly reference?: string
  /** Where deliver writes, relative to the config file. Default: `--out`, else `<project>/.pipeline/out`. */
  readonly out?: string
  /** Stages to leave out, e.g. `['score']`. */
  readonly without?: readonly StageName[]
  /** Holding weights may be off 100% by this many percentage points. Default 0.5. */
  readonly weightTolerance?: number
}

/**
 * The built-in fund pipeline (ingest, map, validate, enrich, resolve, score, deliver and the two
 * projections) as a preset for `defineConfig`. With no config at all, every command runs it whole.
 */
export function fundPipeline(options: FundPipelineOptions = {}): ConsumerPreset {
  const without = options.without ?? []
  for (const name of without) {
    if (!STAGE_NAMES.includes(name)) throw unknownNameError('E_CONFIG', 'stage', name, STAGE_NAMES, 'fundPipeline({ without }) takes the fund pipeline\'s stage names.')
  }
  const names = STAGE_NAMES.filter((n) => !without.includes(n as StageName))
  if (names.length === 0) throw new EventspineError('E_CONFIG', 'fundPipeline({ without }) leaves out every stage', { hint: 'Drop the preset from consumers instead.' })
  const dirs = (configDir: string) => ({
    ...(options.profiles === undefined ? {} : { profilesDir: resolve(configDir, options.profiles) }),
    ...(options.reference === undefined ? {} : { referenceDir: resolve(configDir, options.reference) }),
  })
  return {
    kind: 'eventspine.preset',
    title: 'the fund pipeline',
    fingerprint: `fund:${JSON.stringify(options)}`,
    names,
    endings: FUND_ENDINGS,
    intakeEmits: [EVENT.received],
    build(host, configDir) {
      const all = pipelineConsumers({
        ...dirs(configDir),
        // The command line's reference data (worker --reference, load's generated day) wins over the config's.
        ...(host.referenceDir === undefined ? {} : { referenceDir: host.referenceDir }),
        ...(host.reference === undefined ? {} : { reference: host.reference }),
        outDir: options.out === undefined ? host.outDir : resolve(configDir, options.out),
        ...(host.syncOutput === undefined ? {} : { syncOutput: host.syncOutput }),
        ...(host.clock ? { clock: host.clock } : {}),
        ...(options.weightTolerance === undefined ? {} : { weightTolerance: options.weightTolerance }),
      })
      return all.filter((c) => names.includes(c.name))
    },
    // Imported on demand: the fuzz inputs bring faker and fast-check, which `import 'eventspine'` should not load.
    fuzzTargets: async (chosen, configDir) => (await import('../check/builtin/index.js')).builtinTargets(chosen, dirs(configDir)),
  }
}
