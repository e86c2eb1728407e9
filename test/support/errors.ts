import { expect } from 'vitest'
import { EventspineError } from '../../src/errors.js'

/** Runs `fn` and returns the EventspineError it throws (fails the test otherwise). */
export function thrown(fn: () => unknown): EventspineError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(EventspineError)
    return error as EventspineError
  }
  throw new Error('expected an EventspineError, nothing was thrown')
}
