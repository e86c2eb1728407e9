/**
 * How long the runtime remembers things: each window bounds memory, and each is a promise the
 * README states (a duplicate arriving after its window is not recognised).
 */

/** A published event id is remembered this long: re-sending it within the window appends nothing. */
export const PUBLISH_DEDUP_MS = 24 * 60 * 60 * 1000

/** A correlation index (one file's journey) lives this long after the file's first event. */
export const INDEX_TTL_SECONDS = 7 * 24 * 60 * 60

/** Committed event ids kept per consumer for duplicate detection (the newest are kept). */
export const DEFAULT_INBOX_SIZE = 100_000
