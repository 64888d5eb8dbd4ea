import { expectedValue } from './ev.ts';
import type { Agent, AgentManifest, CustomerContext } from './types.ts';

export const dataStewardshipManifest: AgentManifest = {
  id: 'data-stewardship',
  owner: 'revops',
  objective: 'keep customer records complete and free of duplicates',
  triggers: { signalTypes: [], features: [], schedule: 'daily' },
  actions: { create_task: { autonomy: 3, risk: 'low' } },
  riskClass: 'low',
  readsContacts: true,
};

/** What is missing or wrong on a customer record, in words a steward acts on. */
export function recordProblems(ctx: CustomerContext): string[] {
  const problems: string[] = [];
  if (!ctx.name || ctx.name === 'Unidentified customer') problems.push('no name: the profile was created from a signal');
  if (!ctx.contacts.some((c) => c.email || c.phone)) problems.push('no contact with an email or phone');
  if (ctx.subscription && (ctx.subscription.monthlyAmount == null || ctx.subscription.tenureMonths == null))
    problems.push('subscription lacks monthly amount or tenure');
  for (const other of ctx.possibleDuplicates ?? []) problems.push(`possible duplicate of ${other}`);
  return problems;
}

export const dataStewardshipAgent: Agent = {
  manifest: dataStewardshipManifest,
  propose(ctx) {
    if (!ctx.accountId) return [];
    const problems = recordProblems(ctx);
    if (problems.length === 0) return [];
    return [
      {
        agentId: 'data-stewardship',
        action: 'create_task',
        risk: 'low',
        params: {
          title: `Data steward: ${problems.length} problem(s) on ${ctx.customerId ?? ctx.accountId}`,
          details: problems.join('\n'),
          assignee: 'data-stewards',
        },
        // Value of a clean record: other agents' proposals for this customer become possible and better aimed.
        ev: expectedValue(
          { value: 0.5, source: 'rule', detail: 'most steward tasks get done' },
          { value: 20, source: 'rule', detail: 'value of a usable record' },
          { value: 5, source: 'rule', detail: 'steward time' },
          'low',
        ),
        reason: `Fix the record: ${problems.join('; ')}.`,
      },
    ];
  },
};
