import { formatMoney, moneyAmounts } from './text.ts';
import type { CustomerFacts } from './types.ts';

/**
 * The customer's facts as plain sentences, keyed by fact. The composer writes exactly these sentences (citing `[C]`),
 * and the guardrails check a `[C]` sentence against all of them, so a fact sentence is supported by construction and
 * a sentence that claims something the facts do not say is not.
 */
export function factSentences(facts: CustomerFacts): Record<string, string> {
  const cur = typeof facts.currency === 'string' ? facts.currency : '$';
  const out: Record<string, string> = {};
  if (facts.plan && typeof facts.monthlyAmount === 'number')
    out.plan = `Your current plan is ${facts.plan} at ${formatMoney(facts.monthlyAmount, cur)} a month.`;
  else if (facts.plan) out.plan = `Your current plan is ${facts.plan}.`;
  else if (typeof facts.monthlyAmount === 'number') out.plan = `Your monthly charge is ${formatMoney(facts.monthlyAmount, cur)}.`;
  if (typeof facts.tenureMonths === 'number')
    out.tenureMonths = `You have been with us for ${facts.tenureMonths} month${facts.tenureMonths === 1 ? '' : 's'}.`;
  if (facts.offer) out.offer = `We can offer you ${facts.offer}.`;
  if (facts.creditApplied) out.creditApplied = `We have applied ${facts.creditApplied}.`;
  if (facts.caseSubject) out.caseSubject = `This is about your case: ${facts.caseSubject}.`;
  for (const [key, value] of Object.entries(facts)) {
    if (
      value === undefined ||
      key in out ||
      ['name', 'plan', 'monthlyAmount', 'currency', 'tenureMonths', 'offer', 'creditApplied', 'caseSubject'].includes(key)
    )
      continue;
    out[key] = `Your ${key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} is ${String(value)}.`;
  }
  return out;
}

/** Facts whose numbers are money: an amount a text states must be one of these, or in a passage the sentence cites. */
const MONEY_KEY = /amount|price|credit|charge|balance|fee|cost|total|refund|discount/i;

/** The money amounts the facts hold: money-named numbers, and amounts written inside text facts ("a $10.00 credit"). */
export function factNumbers(facts: CustomerFacts): number[] {
  const out: number[] = [];
  for (const [key, v] of Object.entries(facts)) {
    if (typeof v === 'number' && MONEY_KEY.test(key)) out.push(v);
    else if (typeof v === 'string') out.push(...moneyAmounts(v));
  }
  return out;
}

/** The facts as one block of text, for a prompt (inside a data block) and for support checks. */
export const factsText = (facts: CustomerFacts) => {
  const lines = Object.values(factSentences(facts));
  if (facts.name) lines.unshift(`Your name is ${facts.name}.`);
  return lines.join('\n');
};
