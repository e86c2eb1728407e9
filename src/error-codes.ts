/**
 * Every stable error code, declared once, with what it means. `EventspineError` and `hasCode`
 * take only these, so a mistyped or undeclared code fails `tsc`; a unit test checks that each
 * one is still thrown somewhere and that README names no other.
 */
export const ERROR_CODES = {
  // Flags and usage
  E_FLAG: 'A flag value is out of range or unreadable (a usage error, exit 2).',
  E_CONFIRM_REQUIRED: 'A destructive command was not confirmed (no --yes, and no terminal to ask on).',
  E_NODE_VERSION: 'Node is older than the version eventspine needs.',
  E_UNEXPECTED: 'An error that is not ours: a bug, printed with its stack to report it.',

  // Redis: finding, starting and reaching it
  E_REDIS: 'Redis failed in a way `pipeline doctor` has no more precise code for.',
  E_REDIS_URL_INVALID: 'The Redis URL (--redis-url, PIPELINE_REDIS_URL, REDIS_URL) cannot be parsed.',
  E_REDIS_UNREACHABLE: 'The Redis at the URL did not answer.',
  E_REDIS_AUTH: 'Redis refused the credentials (WRONGPASS, NOAUTH).',
  E_REDIS_BINARY_MISSING: 'redis-server is not on PATH and no Redis URL was given.',
  E_REDIS_START_FAILED: 'The managed redis-server did not start.',
  E_REDIS_NOT_RUNNING: 'No Redis URL was given and no managed redis-server runs for this project.',
  E_REDIS_EVICTION_POLICY: 'Redis may evict keys (maxmemory-policy is not noeviction), which can drop stream entries.',
  E_PARTITIONS_INVALID: 'A partition count is not a whole number in range.',
  E_PUBLISH_NOT_REPLICATED: 'No replica confirmed a publish on a cluster whose master has one (WAIT timed out): it may be lost if that master dies now; re-publishing is safe (idempotent by id).',
  E_PARTITIONS_MISMATCH: 'A namespace was opened with another partition count than the one stored with it.',

  // Redis: replies to a command
  E_REDIS_CLUSTER: 'The Redis Cluster is not fit to use: cluster_state is not ok, slots are not served, or redirections (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) did not settle.',
  E_REDIS_CROSSSLOT: 'A command or script of eventspine named keys of several cluster slots: a bug in a key layout.',
  E_REDIS_WRONGTYPE: 'A key of the namespace holds another Redis type: another program uses the namespace.',
  E_REDIS_OOM: 'Redis refused a write because maxmemory is reached.',
  E_REDIS_NOPERM: 'The Redis user lacks the permission (ACL) for a command or key.',
  E_REDIS_REPLY: 'Redis refused a command with an error reply eventspine has no more precise code for.',

  // Events and contracts
  E_ENVELOPE: 'An event or a stream entry does not have the shape of an event envelope.',
  E_EVENT_TOO_LARGE: 'An encoded event is over the per-event byte cap.',
  E_CONTRACT: 'An event payload breaks its JSON Schema contract.',
  E_CONTRACT_UNKNOWN: 'No contract exists for an event type or version.',
  E_CONTRACT_UPCAST: 'An upcaster is missing, registered twice, or its output breaks the next contract.',
  E_CONTRACT_FILE: 'A contract file or folder cannot be read, or defines a type@version twice.',
  E_SCHEMA_UPCASTERS: 'The --upcasters module cannot be imported or exports no registerUpcasters.',
  E_SCHEMA_BASELINE: 'The baseline of `schema check` (a git ref or a folder) cannot be read.',

  // The bus: consumers, dead letters, replay
  E_LEASE_LOST: 'Another instance of the consumer took over its lease; this one stops committing.',
  E_STATE_KEY_TYPE: 'A consumer wrote to a state key that holds another Redis type.',
  E_TRANSIENT: 'A handler failed because the world is wrong (disk full, a service down): retried until it works, never dead-lettered; counts toward the breaker.',
  E_POISON: 'A handler failed because the event is wrong (unparseable payload): dead-lettered at once, no retries, and it does not open the breaker.',
  E_DLQ_BAD_ID: 'A dead-letter id is not a stream entry id (or consumer/entry id).',
  E_DLQ_NOT_FOUND: 'No dead letter has the given id in the namespace.',
  E_DLQ_AMBIGUOUS: 'An entry id names a dead letter of several consumers.',
  E_DLQ_NOTHING_CHOSEN: 'No dead letters were chosen (no ids and no --all), or both were given.',
  E_REPLAY_NO_WINDOW: '`pipeline replay` was given no window (--since, --from or --rebuild).',
  E_REPLAY_BAD_BOUND: 'A replay bound (--from, --to) is neither a stream entry id nor a date.',
  E_REPLAY_BAD_WINDOW: '--rebuild was combined with a window, which it does not take.',
  E_REPLAY_NOT_PROJECTION: '--rebuild was asked of a consumer that emits events (only projections rebuild).',
  E_RECONCILE_UNKNOWN_READ_MODEL: '`pipeline reconcile --state` or `--translation` named a consumer the pipeline does not have (or one that is no translation).',
  E_REBUILD_FENCE_LOST: 'An online rebuild lost its hold on the live consumer\'s lease before the swap: nothing was swapped.',
  E_REPLAY_UNFINISHED: 'An earlier replay of the consumer did not finish: resume it or start fresh.',
  E_REPLAY_UNKNOWN_CONSUMER: 'No consumer of the pipeline has the given name.',

  // The pipeline and its host
  E_UNKNOWN_STAGE: 'A --stage names no stage of the pipeline.',
  E_UNKNOWN_CONSUMER: 'A --consumer names no consumer of the pipeline (nor, for dlq list/purge, one with dead letters here); a usage error.',
  E_MAPPING_PROFILE: 'A provider mapping profile cannot be read or is invalid.',
  E_REFERENCE_DATA: 'A reference table (funds.csv, identifiers.csv) cannot be read or lacks columns.',
  E_PUBLISH_MISSING: '`pipeline publish` was given a path that does not exist.',
  E_PUBLISH_DIRECTORY: '`pipeline publish` was given a folder instead of files.',
  E_PRODUCE_JSON: 'A line on the standard input of `pipeline produce` is not JSON (the message names the line).',
  E_PRODUCE_EVENT: 'An event given to `pipeline produce` lacks an envelope field or has a bad one (type, key, payload, id, correlation id, version).',
  E_PRODUCE_FLAGS: '`pipeline produce` --id or --correlation-id is not a UUID; a usage error.',
  E_PRODUCE_EMPTY: '`pipeline produce` read no events from its standard input.',
  E_PUBLISH_NO_MATCH: 'A glob given to `pipeline publish` matches no file.',
  E_SINCE_INVALID: '--since is neither a duration nor a stream entry id.',
  E_TRACE_TARGET: 'The trace target is a folder or a file that does not exist.',
  E_TRACE_NOT_FOUND: 'The traced file or correlation id never reached the namespace.',
  E_TRACE_AMBIGUOUS: 'A partial correlation id given to trace matches several files; the message lists them.',
  E_UP_RUNNING: '`pipeline up` already runs for this project.',
  E_UP_DETACH: '`pipeline up --detach` did not start in the background.',
  E_HTTP_PORT: 'The HTTP port is in use or not allowed.',
  E_CONSOLE_NOT_BUILT: 'The web console bundle (dist/console) is missing: `npm run build` makes it.',
  E_CONSOLE_REQUEST: 'A request to the web console API the console cannot take: a body that is not a JSON object or too large, a malformed path or cursor, a stream not in the pipeline.',

  // PostgreSQL and the transactional outbox (issue 23)
  E_POSTGRES_BINARY_MISSING: 'PostgreSQL (initdb, postgres) is not installed, and a throwaway cluster was asked for (--outbox managed, the tests).',
  E_POSTGRES_START_FAILED: 'The throwaway PostgreSQL cluster did not initialise or start.',
  E_POSTGRES_UNREACHABLE: 'The outbox database (--outbox, the config\'s outbox) did not answer or refused the connection.',
  E_OUTBOX_URL: '--outbox is neither `managed` nor a postgres:// URL; a usage error.',
  E_OUTBOX_EVENT: 'An event given to writeOutbox lacks a type, key or payload, or its id is not a UUID.',

  // Load tests (sim) and property tests (check)
  E_DAY: 'A --day folder holds no readable version 1 manifest.',
  E_GATE: 'A --assert gate cannot be read, or needs --chaos.',
  E_CHAOS_REDIS: '--chaos was given --redis-url: a chaos run pauses and kills Redis, so it runs its own.',
  E_WORKER_START: 'A `pipeline worker` process that a load or chaos run started did not start or take its stage.',
  E_CHECK_MODULE: 'A consumer module given to `pipeline fuzz` does not exist or exports no consumer.',
  E_CHECK_CONFIG: 'A fuzz config lists no consumers.',
  E_CHECK_TS_LOADER: 'A TypeScript consumer module was given and no TypeScript loader (tsx) was found.',
  E_CHECK_UNKNOWN_CONSUMER: 'fuzz --consumer is neither a built-in consumer, nor one of the config, nor a path to a module; a usage error.',
  E_CHECK_NO_CONTRACT: 'A consumer under fuzz subscribes to a type that has no contract, so nothing can be generated for it; a usage error (pass --contracts DIR).',

  // The project config (pipeline.config.ts) and pipeline init
  E_CONFIG: 'The project config is missing, exports no pipeline config, or lists something that is not a consumer.',
  E_CONFIG_IMPORT: 'The project config, or a module it imports, threw while loading.',
  E_CONFIG_DUPLICATE: 'Two consumers of the project config have one name.',
  E_CONFIG_NO_CONTRACT: 'A consumer of the project config reads an event type that has no contract.',
  E_INIT_EXISTS: '`pipeline init` would overwrite files that exist (--force overwrites them), or its folder is a file.',

  // Golden tests (pipeline test, given/when/then)
  E_GOLDEN_MISMATCH: 'A golden case from code (given/when/then) did not emit or leave what it expected; the message is the diff.',
  E_GOLDEN_CASE: 'A case file of `pipeline test` is not JSON or has a missing or bad field (the message names file and field); a usage error.',
  E_GOLDEN_UNKNOWN_CONSUMER: 'A case file names a consumer the project does not have; a usage error with "did you mean".',
  E_GOLDEN_NO_CASES: '`pipeline test` found no case files, or was given a path that does not exist; a usage error.',
} as const

export type ErrorCode = keyof typeof ERROR_CODES
