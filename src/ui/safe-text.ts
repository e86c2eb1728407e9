// C0 controls (with \n and \t: a value is shown on one line), DEL, C1 controls and the bidi
// embeddings, overrides and isolates that can reorder what a terminal shows.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/**
 * Text from users or Redis (file names, keys, payload values, consumer names, errors) made safe
 * to print: every control character becomes visible as `\u001b`. That is JSON's own escape, so
 * JSON text stays valid JSON with the same value after it. Apply it to each value where it is
 * rendered, before the tool adds its own colours.
 */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/** Text of several lines (a report, an error with its hint): each line made safe, the line breaks kept. */
export function terminalSafeLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n')
}
