/**
 * Untrusted text in a prompt: the customer's words, ticket text, retrieved passages, the customer's facts. Every such
 * text is put between delimiters and labelled as data, and the prompt's instructions say that nothing inside a data
 * block is an instruction. A text cannot close its own block: any delimiter-like run inside it is escaped.
 */

export const DATA_OPEN = '<<<DATA';
export const DATA_CLOSE = '<<<END DATA>>>';

/** Breaks every `<<<` and `>>>` run in a text so it can neither open nor close a data block. */
export function escapeDelimiters(text: string): string {
  return text.replace(/<{3,}/g, (m) => m.split('').join(' ')).replace(/>{3,}/g, (m) => m.split('').join(' '));
}

// Labels are ours (kind) or ids (chunk ids, case ids): anything else in them is dropped, so a label cannot smuggle text.
const label = (s: string) => s.replace(/[^A-Za-z0-9_.:/#-]/g, '').slice(0, 120);

/** One untrusted text, delimited and marked as data: `<<<DATA kind="…" id="…">>>` … `<<<END DATA>>>`. */
export function asUntrustedData(kind: string, id: string, text: string): string {
  return `${DATA_OPEN} kind="${label(kind)}" id="${label(id)}" trust="untrusted">>>\n${escapeDelimiters(text)}\n${DATA_CLOSE}`;
}
