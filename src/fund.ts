/**
 * eventspine/fund: the fund pipeline's rules and event types, for a team that writes its own
 * stage around ours (its own `validate` with a rule of its own, a projection of delivered files).
 *
 * ```ts
 * import { defineConsumer } from 'eventspine'
 * import { EVENT, validateFile, type MappedPayload } from 'eventspine/fund'
 * ```
 */
export * from './pipeline/index.js'
export { validateFile, type ValidateOptions, type ValidateResult } from './pipeline/validate.js'
