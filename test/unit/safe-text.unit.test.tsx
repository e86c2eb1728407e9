import { render } from 'ink-testing-library'
import { describe, expect, it } from 'vitest'
import { Dashboard } from '../../src/ui/Dashboard.js'
import { outcomeLine } from '../../src/ui/format.js'
import { terminalSafe, terminalSafeLines } from '../../src/ui/safe-text.js'
import { runtimeSnapshot } from '../support/figures.js'

const EVIL = '\u001b[31mred\u001b[0m-\u001b]0;pwned\u0007.csv'
const SHOWN = '\\u001b[31mred\\u001b[0m-\\u001b]0;pwned\\u0007.csv'

describe('terminalSafe', () => {
  it('shows C0 controls (with newline and tab), DEL, C1 controls and bidi overrides as escapes', () => {
    expect(terminalSafe(EVIL)).toBe(SHOWN)
    expect(terminalSafe('a\nb\tc\r\u0000')).toBe('a\\u000ab\\u0009c\\u000d\\u0000')
    expect(terminalSafe('\u007f\u0080\u009b\u009f')).toBe('\\u007f\\u0080\\u009b\\u009f')
    expect(terminalSafe('\u202a\u202e\u2066\u2069x')).toBe('\\u202a\\u202e\\u2066\\u2069x')
  })

  it('leaves printable text alone, accents, symbols and emoji included', () => {
    for (const text of ['northwind-nav-2026-11-24.csv', 'Zürich ✓ … 📈', 'C:\\data\\x.csv', '\u00a0\u00ff\u2028']) expect(terminalSafe(text)).toBe(text)
  })

  it('keeps JSON valid with the same value: its escape is JSON’s own', () => {
    const value = { name: `${EVIL}\u0085\u202e`, n: 1 }
    const safe = terminalSafe(JSON.stringify(value))
    expect(safe).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/)
    expect(JSON.parse(safe)).toEqual(value)
  })

  it('plain outcome lines show a file name and detail escaped', () => {
    const line = outcomeLine({ at: '2026-11-25T07:30:04.000Z', fileName: EVIL, outcome: 'rejected', correlationId: 'c\u001b1', detail: 'validate:\nfake line' })
    expect(line).toBe(`rejected  ${SHOWN}  validate:\\u000afake line  [c\\u001b1]`)
  })
})

describe('Dashboard with a file named with escape sequences', () => {
  const snapshot = runtimeSnapshot({
    recent: [{ at: '2026-11-25T07:30:04.000Z', fileName: EVIL, outcome: 'delivered', correlationId: 'c1', detail: 'out/\u009b2J.json' }],
    warnings: [`2026-11-25T07:30:02.000Z consumer validate: bad name ${EVIL}`],
  })

  it('shows them as text; no raw control reaches the frame', () => {
    const frame = render(<Dashboard snapshot={snapshot} />).lastFrame() ?? ''
    expect(frame).toContain(`delivered ${SHOWN} out/\\u009b2J.json`)
    expect(frame).toContain(`bad name ${SHOWN}`)
    expect(frame).not.toContain('\u001b]0;')
    expect(frame).not.toContain('\u001b[31mred')
    expect(frame).not.toContain('\u0007')
    expect(frame).not.toContain('\u009b')
  })
})

describe('terminalSafeLines', () => {
  it('keeps a report\'s line breaks and escapes what is inside each line', () => {
    expect(terminalSafeLines('FAIL ledger\n  key=\u001b[2Jk\u009b1\n  done')).toBe('FAIL ledger\n  key=\\u001b[2Jk\\u009b1\n  done')
  })
})
