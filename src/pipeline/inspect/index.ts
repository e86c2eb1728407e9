// Looking at a running pipeline: tail its streams, trace one file's journey. Reads only.
export { tailEvents, globToRegExp, typeMatcher, type TailItem, type TailOptions } from './tail.js'
export { startPosition } from './stream-ids.js'
export { summarizePayload } from './summary.js'
export { readTopology, topologyOf, type Topology, type TopologyConsumer } from './topology.js'
export { buildTrace, type Awaited, type ConsumerProbe, type Trace, type TraceDeadLetter, type TraceEvent, type TraceNode, type TraceReason, type TraceStatus } from './trace.js'
export { readTrace, followTrace, type FollowOptions } from './read.js'
export { findFileCorrelation, resolveCorrelationId, traceTarget, RECEIVED_SCAN_LIMIT, type FoundFile, type TraceTarget } from './lookup.js'
export { interruptSignal, tailPipeline, traceFile, withInspectionBus, type ConnectionOptions, type TailRun, type TraceOptions } from './session.js'
