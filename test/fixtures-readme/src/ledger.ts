// The README's `./src/ledger.js`: its samples import it as a user's project would (see
// test/unit/readme-samples.unit.test.ts, which type-checks them from this folder).
export { ledger } from '../../check/good-ledger.js'
