import { addressOutreach } from '../../sense/index.ts';
import type { AgentManifest, CustomerContext, ExpectedValue, Risk, Term } from './types.ts';

/** Share of the impact charged for risk: a rule, so riskier actions need a clearly larger upside. */
export const RISK_PENALTY_SHARE: Record<Risk, number> = { low: 0.02, medium: 0.1, high: 0.25 };

const cents = (n: number) => Math.round(n * 100) / 100;

export function expectedValue(pSuccess: Term, impact: Term, cost: Term, risk: Risk): ExpectedValue {
  const riskPenalty: Term = {
    value: cents(impact.value * RISK_PENALTY_SHARE[risk]),
    source: 'rule',
    detail: `${RISK_PENALTY_SHARE[risk] * 100}% of impact for ${risk} risk`,
  };
  return { pSuccess, impact, cost, riskPenalty, value: cents(pSuccess.value * impact.value - cost.value - riskPenalty.value) };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The manifest's feature triggers that fire for this customer, as readable labels. */
export function firedTriggers(manifest: AgentManifest, ctx: CustomerContext): string[] {
  return manifest.triggers.features.flatMap((t) => {
    const v = num(ctx.features[t.feature]);
    if (v === null) return [];
    const fires = t.op === '<' ? v < t.value : t.op === '<=' ? v <= t.value : t.op === '>' ? v > t.value : v >= t.value;
    return fires ? [`${t.feature} ${v} ${t.op} ${t.value}`] : [];
  });
}

/** Whether consent in effect allows a message on this channel and purpose to one of the customer's points, under their brand. */
export const hasConsent = (ctx: CustomerContext, channel: string, purpose: string) =>
  addressOutreach(ctx.consents, ctx.contacts, { channel, purpose, brand: ctx.brand ?? null }).granted;
export const monthly = (ctx: CustomerContext) => num(ctx.subscription?.monthlyAmount) ?? 0;
export { cents, num };
