import { Box, Text } from 'ink'
import type { RuntimeSnapshot } from '../pipeline/host/figures.js'
import { clockTime, COLUMNS, figuresLegend, outboxLine, padCell, pausedLines, reloadLine, stageCells } from './format.js'
import { terminalSafe as safe } from './safe-text.js'

export interface DashboardProps {
  readonly snapshot: RuntimeSnapshot
  /** Where Redis came from (`managed-started`, `flag`, ...), shown beside its URL. */
  readonly redisSource?: string
  /** Shown under the table while stopping. */
  readonly status?: string
  /** How many recent files and warnings to show. Default 5 and 3. */
  readonly recentCount?: number
  readonly warningCount?: number
}

const OUTCOME_COLOR = { delivered: 'green', rejected: 'red', duplicate: 'yellow' } as const

/** The `pipeline up` dashboard: props in, view out (the caller re-renders it each second). */
export function Dashboard({ snapshot, redisSource, status, recentCount = 5, warningCount = 3 }: DashboardProps) {
  const recent = snapshot.recent.slice(0, recentCount)
  const warnings = snapshot.warnings.slice(-warningCount)
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>eventspine pipeline</Text> <Text dimColor>ns</Text> {safe(snapshot.namespace)} <Text dimColor>redis</Text> {safe(snapshot.redis)}
        {redisSource ? <Text dimColor> ({redisSource})</Text> : null}
      </Text>
      <Text>
        <Text dimColor>inbox</Text> {safe(snapshot.inbox ?? '-')} <Text dimColor>out</Text> {safe(snapshot.outDir)}
      </Text>
      <Text>
        <Text dimColor>http</Text> {safe(snapshot.http ?? 'off')} <Text dimColor>updated</Text> {clockTime(snapshot.at)}
      </Text>
      {snapshot.reload ? <Text color={snapshot.reload.ok ? 'green' : 'red'} wrap="truncate-end">{reloadLine(snapshot.reload)}</Text> : null}
      {snapshot.outbox ? <Text {...(snapshot.outbox.deadLettered > 0 ? { color: 'yellow' } : {})} wrap="truncate-end">{outboxLine(snapshot.outbox)}</Text> : null}
      {snapshot.partitionOutbox ? <Text wrap="truncate-end"><Text dimColor>partitions</Text> {snapshot.partitionOutbox.partitions} <Text dimColor>relay</Text> {snapshot.partitionOutbox.waiting} waiting, oldest {Math.round(snapshot.partitionOutbox.oldestAgeMs / 100) / 10} s</Text> : null}
      <Box flexDirection="column" marginTop={1}>
        <Text bold>{COLUMNS.map((c, i) => padCell(c.title, i)).join(' ')}</Text>
        {snapshot.stages.map((s) => {
          const busy = (s.lag ?? 0) + s.pending > 0
          const troubled = s.deadLetterBacklog > 0 || s.retries > 0
          const paused = s.breaker?.open === true
          return (
            <Text key={s.stage} {...(paused ? { color: 'red' } : troubled ? { color: 'yellow' } : busy ? { color: 'cyan' } : {})}>
              {stageCells(s).map(padCell).join(' ')}
            </Text>
          )
        })}
        {pausedLines(snapshot.stages).map((line) => (
          <Text key={line} color="red">
            {line}
          </Text>
        ))}
      </Box>
      <Box flexDirection="column" marginTop={1}>
        <Text bold>Recent files</Text>
        {recent.length === 0 ? <Text dimColor>none yet: drop a file into the inbox or run `pipeline publish FILE`</Text> : null}
        {recent.map((o) => (
          <Text key={`${o.correlationId}-${o.outcome}`}>
            {clockTime(o.at)} <Text color={OUTCOME_COLOR[o.outcome]}>{o.outcome.padEnd(9)}</Text> {safe(o.fileName)} <Text dimColor>{safe(o.detail)}</Text>
          </Text>
        ))}
      </Box>
      {warnings.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text bold color="yellow">
            Warnings
          </Text>
          {warnings.map((w, i) => (
            <Text key={i} color="yellow" wrap="truncate-end">
              {safe(warningText(w))}
            </Text>
          ))}
        </Box>
      ) : null}
      <Box flexDirection="column" marginTop={1}>
        {figuresLegend(snapshot.stages).map((line) => (
          <Text key={line} dimColor>
            {line}
          </Text>
        ))}
        <Text dimColor>{status ?? 'Ctrl-C to stop. Counts, LAG and DEAD from Redis (every process); /S since the last refresh.'}</Text>
      </Box>
    </Box>
  )
}

/** Warnings are kept as `<ISO time> <message>`; show the time as the rest of the view does. */
function warningText(w: string): string {
  const space = w.indexOf(' ')
  return space > 0 && !Number.isNaN(Date.parse(w.slice(0, space))) ? `${clockTime(w.slice(0, space))} ${w.slice(space + 1)}` : w
}
