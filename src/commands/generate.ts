import { Flags } from '@oclif/core'
import { resolve } from 'node:path'
import { BaseCommand } from '../cli/base-command.js'
import { parsedBy } from '../cli/flags.js'
import { todayIso } from '../sim/calendar.js'
import { writeDay } from '../sim/store.js'
import { parseDayDate, parseEventsPerDay, parseFaultRate, parseKind, parseProvider, summariseDay, type DaySummary } from '../sim/summary.js'
import { PROVIDERS, type ProviderName } from '../sim/types.js'
import { FILE_KINDS, type FileKind } from '../pipeline/types.js'

export default class Generate extends BaseCommand {
  static override summary = 'Generate a busy day of synthetic fund files (NAV, holdings, reference) with named faults and a manifest.'
  static override description =
    'Writes DIR/inbox/ (the files: three providers\' CSV layouts, FundsXML 4, EMT and openfunds senders; --providers picks the mix), DIR/reference/ (funds.csv and identifiers.csv for enrich ' +
    'and resolve) and DIR/manifest.json (every file with its arrival time, provider, kind, faults and the outcome the ' +
    'pipeline must reach). Deterministic: the same seed, date and sizes give byte-identical files.'

  static override examples = [
    '<%= config.bin %> generate --events-per-day 200000 --seed 42 --out day-42',
    '<%= config.bin %> generate --date 2026-11-20 --faults 0.1 --kinds nav,holdings',
  ]

  static override enableJsonFlag = true
  static override flags = {
    'events-per-day': Flags.custom<number>({ summary: 'About how many events processing the day emits (a delivered file emits 8).', default: 20_000, parse: parsedBy(parseEventsPerDay) })(),
    date: Flags.custom<string>({ summary: 'Business day, YYYY-MM-DD. Default: today (UTC).', parse: parsedBy(parseDayDate) })(),
    seed: Flags.integer({ summary: 'Seed for faker and every random draw.', default: 1 }),
    faults: Flags.custom<number>({ summary: 'Share of files with a fault, 0-1.', default: 0.02, parse: parsedBy(parseFaultRate) })(),
    kinds: Flags.custom<FileKind>({ summary: 'File kinds to generate, comma-separated.', multiple: true, delimiter: ',', default: [...FILE_KINDS], parse: parsedBy(parseKind) })(),
    providers: Flags.custom<ProviderName>({ summary: 'Senders to draw funds from, comma-separated.', multiple: true, delimiter: ',', default: [...PROVIDERS], parse: parsedBy(parseProvider) })(),
    out: Flags.string({ summary: 'Folder to write. Default: .pipeline/days/<date>-seed<seed>.' }),
    'reference-db': Flags.string({ summary: 'Also write the day\'s reference data into this Postgres\'s reference schema (for `pipeline load --reference-db`).', env: 'PIPELINE_REFERENCE_DB' }),
  }

  async run(): Promise<DaySummary & { dir: string; referenceDb?: { url: string; funds: number; identifiers: number } }> {
    const { flags } = await this.parse(Generate)
    const { generateDay } = await import('../sim/day.js')
    const date = flags.date ?? todayIso()
    const { faults, kinds, providers } = flags
    const dir = resolve(flags.out ?? `.pipeline/days/${date}-seed${flags.seed}`)
    const day = writeDay(generateDay({ eventsPerDay: flags['events-per-day'], date, seed: flags.seed, faults, kinds, providers }), dir)
    const summary = summariseDay(day.manifest)
    const url = flags['reference-db']
    const seeded = url === undefined ? undefined : await (await import('../pipeline/reference-db.js')).seedReferenceFromFolder(url, day.referenceDir)
    if (!this.jsonEnabled()) this.log(render(summary, dir, seeded))
    return { ...summary, dir, ...(seeded === undefined ? {} : { referenceDb: seeded }) }
  }
}

function render(s: DaySummary, dir: string, seeded?: { url: string; funds: number; identifiers: number }): string {
  const list = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`).join(', ') || 'none'
  return [
    `Day ${s.date} (seed ${s.seed}) written to ${dir}`,
    `  files      ${s.files.toLocaleString('en-US')} (${list(s.byKind)}), ${(s.bytes / 1024 / 1024).toFixed(1)} MiB`,
    `  events     ${s.expectedEvents.toLocaleString('en-US')} expected when processed`,
    `  outcomes   ${list(s.byOutcome)}`,
    `  faults     ${list(s.byFault)}`,
    `  NAV files  ${Math.round(s.navAfterCutOff * 100)}% arrive after the 17:00 cut-off`,
    ...(seeded === undefined ? [] : [`  reference  ${seeded.funds} funds, ${seeded.identifiers} identifiers written to ${seeded.url} (schema reference)`]),
    seeded === undefined ? `Run it: pipeline load --day ${dir}` : `Run it: pipeline load --day ${dir} --reference-db ${seeded.url}`,
  ].join('\n')
}
