/**
 * Rows of a correlation index, as lua/include/index-append.lua writes them: `<event type>
 * <entry id>` for an event in its stream, `dlq:<consumer> <entry id>` for a dead letter in that
 * consumer's dead-letter stream. Read here and nowhere else.
 */
export type IndexRow =
  | { readonly kind: 'event'; readonly type: string; readonly entryId: string }
  | { readonly kind: 'dead-letter'; readonly consumer: string; readonly entryId: string }

const DEAD_LETTER = 'dlq:'

export function parseIndexRow(row: string): IndexRow {
  const space = row.indexOf(' ')
  const entryId = row.slice(space + 1)
  if (row.startsWith(DEAD_LETTER)) return { kind: 'dead-letter', consumer: row.slice(DEAD_LETTER.length, space), entryId }
  return { kind: 'event', type: row.slice(0, space), entryId }
}
