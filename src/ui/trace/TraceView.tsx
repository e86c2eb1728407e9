import { Box, Text } from 'ink'
import type { Trace, TraceDeadLetter, TraceEvent } from '../../pipeline/inspect/index.js'
import { terminalSafe as safe } from '../safe-text.js'
import { awaitedLine, formatMs, reasonLines, statusLine, timeOfDay, traceRows } from './rows.js'

export interface TraceViewProps {
  readonly trace: Trace
  /** False for NO_COLOR or a pipe. */
  readonly color?: boolean
  /** True while `--follow` is still reading. */
  readonly following?: boolean
}

/** Text props for a colour, dim or bold: none at all when colour is off (NO_COLOR, a pipe). */
interface Styles {
  c(color: string): { color?: string; bold?: boolean }
  readonly dim: { dimColor?: boolean }
  readonly bold: { bold?: boolean }
}

function styles(color: boolean): Styles {
  return color ? { c: (c) => ({ color: c }), dim: { dimColor: true }, bold: { bold: true } } : { c: () => ({}), dim: {}, bold: {} }
}

function EventRow({ prefix, node, s }: { prefix: string; node: TraceEvent; s: Styles }) {
  const tone = /rejected$/.test(node.type) ? 'red' : /delivered$/.test(node.type) ? 'green' : /duplicate$/.test(node.type) ? 'yellow' : 'cyan'
  return (
    <Text wrap="truncate-end">
      <Text {...s.dim}>{prefix}</Text>
      <Text {...s.c(tone)} {...s.bold}>
        {safe(node.type)}
      </Text>
      {node.trimmed ? (
        <Text {...s.c('yellow')}>  entry {safe(node.entryId)} trimmed from its stream</Text>
      ) : (
        <>
          <Text>  {safe(node.source)}</Text>
          <Text {...s.dim}>  {safe(timeOfDay(node.at))}</Text>
          <Text {...s.c('magenta')}>{node.latencyMs === null ? '' : `  +${formatMs(node.latencyMs)}`}</Text>
          <Text {...s.dim}>{node.summary === '' ? '' : `  ${safe(node.summary)}`}</Text>
        </>
      )}
    </Text>
  )
}

function DeadLetterRow({ prefix, node, s }: { prefix: string; node: TraceDeadLetter; s: Styles }) {
  if (node.removed) {
    return (
      <Text wrap="truncate-end">
        <Text {...s.dim}>{prefix}</Text>
        <Text {...s.dim}>✓ dead letter in {safe(node.consumer)} since removed (re-delivered or purged)</Text>
      </Text>
    )
  }
  const attempts = node.attempts === null ? '' : ` after ${node.attempts} attempt${node.attempts === 1 ? '' : 's'}`
  return (
    <Text wrap="truncate-end">
      <Text {...s.dim}>{prefix}</Text>
      <Text {...s.c('red')} {...s.bold}>
        ✗ dead letter
      </Text>
      <Text>
        {'  '}
        {safe(node.consumer)} gave up on {safe(node.eventType) || 'an event'}
        {attempts}
      </Text>
      <Text {...s.dim}>  {safe(timeOfDay(node.at))}</Text>
      <Text {...s.c('red')}>  {safe(node.error)}</Text>
    </Text>
  )
}

/** A file's journey as a tree along the causation chain, then what it still waits for. */
export function TraceView({ trace, color = true, following = false }: TraceViewProps) {
  const s = styles(color)
  const tone = trace.status === 'complete' ? (trace.outcome?.endsWith('delivered') ? 'green' : 'yellow') : trace.status === 'stuck' ? 'red' : 'blue'
  return (
    <Box flexDirection="column">
      <Text>
        <Text {...s.bold}>{safe(trace.fileName ?? 'file')}</Text>
        <Text {...s.dim}> · correlation {safe(trace.correlationId)}</Text>
      </Text>
      <Text {...s.c(tone)}>{statusLine(trace)}</Text>
      <Text> </Text>
      {traceRows(trace).map(({ prefix, below, node }) =>
        node.kind === 'event' ? (
          <Box key={`${node.type} ${node.entryId}`} flexDirection="column">
            <EventRow prefix={prefix} node={node} s={s} />
            {reasonLines(node.reasons).map((line, i) => (
              <Text key={i} wrap="truncate-end">
                <Text {...s.dim}>{below}</Text>
                <Text {...s.c('red')}>✗ {line}</Text>
              </Text>
            ))}
          </Box>
        ) : (
          <DeadLetterRow key={`dlq:${node.consumer} ${node.entryId}`} prefix={prefix} node={node} s={s} />
        ),
      )}
      {trace.awaited.length > 0 && <Text> </Text>}
      {trace.awaited.map((a) => (
        <Text key={a.consumer} {...s.c('yellow')}>
          … {awaitedLine(a)}
        </Text>
      ))}
      {following && trace.status !== 'complete' && <Text {...s.dim}>following (Ctrl-C to stop)</Text>}
    </Box>
  )
}
