import { useEffect, useState } from 'preact/hooks'
import type { DeadLetterPage, DeadLetterRow } from '../../src/pipeline/console/dead-letters.js'
import type { RedeliverySummary, PurgeResult } from '../../src/bus/index.js'
import { getJson, hasToken, postJson } from './api.js'
import { href } from './route.js'

/** A consumer's dead letters, newest first and paged, with replay (as `pipeline dlq replay`) and purge, each confirmed. */
export function DeadLettersPage({ consumer }: { consumer: string }) {
  const [rows, setRows] = useState<DeadLetterRow[]>([])
  const [count, setCount] = useState<number | null>(null)
  const [cursor, setCursor] = useState<string | null>(null)
  const [note, setNote] = useState<string | null>(null)
  const [open, setOpen] = useState<string | null>(null)
  const load = async (from: string | null) => {
    try {
      const page = await getJson<DeadLetterPage>(`/api/dlq/${encodeURIComponent(consumer)}`, { cursor: from })
      setRows((r) => (from === null ? [...page.entries] : [...r, ...page.entries]))
      setCount(page.count)
      setCursor(page.cursor)
    } catch (e) {
      setNote(`Could not read the dead letters: ${(e as Error).message}`)
    }
  }
  useEffect(() => void load(null), [consumer])

  const act = async (what: string, work: () => Promise<string>) => {
    if (!confirm(what)) return
    try {
      setNote(await work())
    } catch (e) {
      setNote(`Refused: ${(e as Error).message}`)
    }
    await load(null)
  }
  const replay = (ids: string[] | 'all') =>
    act(ids === 'all' ? `Replay all ${count ?? ''} dead letters of ${consumer}?` : `Replay dead letter ${ids.join(', ')}?`, async () => {
      const r = await postJson<RedeliverySummary>('/api/dlq/replay', ids === 'all' ? { consumer, all: true } : { consumer, ids })
      return `Replayed: ${r.delivered} delivered, ${r.duplicates} duplicates, ${r.failed} failed again, ${r.skipped} skipped.`
    })
  const purge = () =>
    act(`Purge all ${count ?? ''} dead letters of ${consumer}? They cannot be replayed afterwards.`, async () => {
      const [r] = await postJson<PurgeResult[]>('/api/dlq/purge', { consumer })
      return `Purged ${r?.purged ?? 0} dead letters.`
    })

  return (
    <section aria-labelledby="dlq-title">
      <h1 id="dlq-title">Dead letters of {consumer} <small>{count === null ? '' : `${count} waiting`}</small></h1>
      {!hasToken() && <p role="note">Read-only: open the console from the URL `pipeline up` printed (it carries the token) to replay or purge.</p>}
      <p role="status" aria-live="polite" class="note">{note ?? ''}</p>
      <div class="actions">
        <button type="button" disabled={!count} onClick={() => void replay('all')}>Replay all</button>
        <button type="button" class="danger" disabled={!count} onClick={() => void purge()}>Purge all…</button>
      </div>
      {rows.length === 0 ? <p>No dead letters.</p> : (
        <table class="dead-letters">
          <thead><tr><th scope="col">failed at</th><th scope="col">event</th><th scope="col">error</th><th scope="col" class="num">attempts</th><th scope="col">file</th><th scope="col">actions</th></tr></thead>
          <tbody>
            {rows.map((d) => (
              <>
                <tr key={d.id} data-dead-letter={d.id}>
                  <td>{new Date(d.failedAt).toLocaleString()}</td>
                  <td>{d.eventType ?? d.undecodable ?? '?'}<div class="summary">{d.summary}</div></td>
                  <td>{d.error}</td>
                  <td class="num">{d.attempts}</td>
                  <td>{d.correlationId ? <a href={href.file(d.correlationId)}>journey</a> : '–'}</td>
                  <td>
                    <div class="row-actions">
                      <button type="button" aria-expanded={open === d.id} onClick={() => setOpen(open === d.id ? null : d.id)}>Show</button>
                      <button type="button" onClick={() => void replay([d.id])}>Replay</button>
                    </div>
                  </td>
                </tr>
                {open === d.id && (
                  <tr key={`${d.id}-detail`} class="detail"><td colSpan={6}><pre>{`${d.id}\nevent ${d.eventId ?? '?'}\n\n${d.stack}`}</pre></td></tr>
                )}
              </>
            ))}
          </tbody>
        </table>
      )}
      {cursor !== null && <button type="button" onClick={() => void load(cursor)}>Older dead letters</button>}
    </section>
  )
}
