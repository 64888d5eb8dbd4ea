import { formatMoney, moneyAmounts } from './text.ts';
import type { CustomerFacts } from './types.ts';

/** Who a text's fact sentences speak to: the customer ("Your plan …") or staff about the customer ("The customer's plan …"). */
export type FactVoice = 'customer' | 'staff';

/**
 * The customer's facts as plain sentences, keyed by fact. The composer writes exactly these sentences (citing `[C]`),
 * and the guardrails check a `[C]` sentence against all of them (both voices), so a fact sentence is supported by
 * construction and a sentence that claims something the facts do not say is not. A summary is for staff: it speaks
 * of the customer in the third person.
 */
export function factSentences(facts: CustomerFacts, voice: FactVoice = 'customer'): Record<string, string> {
  const cur = typeof facts.currency === 'string' ? facts.currency : '$';
  const staff = voice === 'staff';
  const your = staff ? "The customer's" : 'Your';
  const youAre = staff ? 'The customer is' : 'You are';
  const amount = typeof facts.monthlyAmount === 'number' ? formatMoney(facts.monthlyAmount, cur) : null;
  const out: Record<string, string> = {};
  if (facts.plan) out.plan = `${your} current plan is ${facts.plan}${amount ? ` at ${amount} a month` : ''}.`;
  // A contract term is not a plan: "month-to-month" names how long the customer is bound, not what they have.
  else if (facts.contract) out.plan = `${youAre} on a ${facts.contract} contract${amount ? ` at ${amount} a month` : ''}.`;
  else if (amount) out.plan = `${your} monthly charge is ${amount}.`;
  if (typeof facts.tenureMonths === 'number')
    out.tenureMonths = `${staff ? 'The customer has' : 'You have'} been with us for ${facts.tenureMonths} month${facts.tenureMonths === 1 ? '' : 's'}.`;
  if (facts.offer) out.offer = `We can offer ${staff ? 'the customer' : 'you'} ${facts.offer}.`;
  if (facts.creditApplied) out.creditApplied = `We have applied ${facts.creditApplied}.`;
  if (facts.caseSubject)
    out.caseSubject = staff ? `The case is about: ${facts.caseSubject}.` : `This is about your case: ${facts.caseSubject}.`;
  for (const [key, value] of Object.entries(facts)) {
    if (
      value === undefined ||
      key in out ||
      ['name', 'plan', 'contract', 'monthlyAmount', 'currency', 'tenureMonths', 'offer', 'creditApplied', 'caseSubject'].includes(key)
    )
      continue;
    out[key] = `${your} ${key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} is ${String(value)}.`;
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
export const factsText = (facts: CustomerFacts, voice: FactVoice = 'customer') => {
  const lines = Object.values(factSentences(facts, voice));
  if (facts.name) lines.unshift(`Your name is ${facts.name}.`);
  return lines.join('\n');
};
