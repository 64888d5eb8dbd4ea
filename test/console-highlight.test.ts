import { describe, expect, it } from 'vitest';
import { highlight, queryStems } from '../console/src/highlight.ts';

// How the console's Knowledge view marks a query's words in a passage (console/src/highlight.ts).
describe('marking query words in a knowledge passage', () => {
  const marked = (text: string, query: string) =>
    highlight(text, query)
      .filter((p) => p.hit)
      .map((p) => p.text);

  it('takes the query’s words without short function words, a plural or verb ending taken off', () => {
    expect(queryStems('What is the late payment fee for my bills?')).toEqual(['payment', 'late', 'bill', 'fee']);
    expect(queryStems('FIBER-500 outages')).toEqual(['fiber-500', 'outag']);
    expect(queryStems('a I ?')).toEqual([]);
  });

  it('marks whole words that start with a stem, in any case, and keeps the text intact', () => {
    const text = 'Late payments: a late-payment fee of $5. Payment is due; feedback welcome. Unpaid bills are chased.';
    const pieces = highlight(text, 'late payment fee bills');
    expect(pieces.map((p) => p.text).join('')).toBe(text);
    expect(marked(text, 'late payment fee bills')).toEqual(['Late', 'payments', 'late', 'payment', 'fee', 'Payment', 'feedback', 'bills']);
  });

  it('does not mark inside a word, and treats regular-expression characters in the query as text', () => {
    expect(marked('translate the plate', 'late')).toEqual([]);
    expect(marked('The plan (FIBER-500) costs $70.', 'FIBER-500 $70 (plan')).toEqual(['plan', 'FIBER-500', '70']);
  });

  it('gives the text unmarked for a query with no words, and nothing for no text', () => {
    expect(highlight('Some text.', 'the a')).toEqual([{ text: 'Some text.', hit: false }]);
    expect(highlight('', 'fee')).toEqual([]);
  });
});
