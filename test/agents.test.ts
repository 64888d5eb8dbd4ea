import { describe, expect, it } from 'vitest';
import {
  AGENTS,
  ChurnModel,
  companyFromEmail,
  dataStewardshipAgent,
  expectedValue,
  leadNurturingAgent,
  retentionAgent,
  serviceRecoveryAgent,
  type CustomerContext,
  type ProposalDraft,
} from '../src/reason/index.ts';
import { PolicyRequest } from '../src/assure/index.ts';

const calm: CustomerContext = {
  accountId: 'acc_1',
  customerId: 'CUST-000001',
  name: 'Ann Lee',
  attributes: { partner: true },
  subscription: {
    contract: 'two-year',
    tenureMonths: 40,
    monthlyAmount: 80,
    paymentMethod: 'Credit card (automatic)',
    services: { internetService: 'DSL' },
  },
  features: {
    usageTrend: 1.1,
    paymentFailures30d: 0,
    lastNps: 9,
    tickets30d: 0,
    ticketSentiment30d: null,
    openCases: 0,
    webVisits7d: 0,
    emailEngagements30d: 0,
  },
  consents: [{ channel: 'email', purpose: 'service' }],
  contacts: [{ email: 'ann@example.com' }],
};
const withFeatures = (f: Record<string, number | null>, over: Partial<CustomerContext> = {}): CustomerContext => ({
  ...calm,
  ...over,
  features: { ...calm.features, ...f },
});

/** Every proposal is well formed: a known action, EV arithmetic that adds up, and a readable sentence. */
function expectWellFormed(p: ProposalDraft) {
  expect(AGENTS.map((a) => a.manifest.id)).toContain(p.agentId);
  expect(AGENTS.find((a) => a.manifest.id === p.agentId)!.manifest.actions[p.action]).toBeDefined();
  const { pSuccess, impact, cost, riskPenalty, value } = p.ev;
  expect(value).toBeCloseTo(pSuccess.value * impact.value - cost.value - riskPenalty.value, 1);
  for (const term of [pSuccess, impact, cost, riskPenalty]) expect(['features', 'rule', 'model']).toContain(term.source);
  expect(p.reason).toMatch(/^[A-Z].{10,}\.$/);
  // The action and its context fit the policy gate's request contract.
  expect(
    PolicyRequest.safeParse({
      agent: { id: p.agentId, role: 'agent', autonomy: 3 },
      action: p.action,
      customer: { id: 'c', segment: 's', region: 'r', inHoldout: false },
      context: { risk: p.risk, channel: p.channel, purpose: p.purpose },
    }).success,
  ).toBe(true);
}

describe('manifests', () => {
  it('every agent declares id, owner, objective, triggers, actions with autonomy and risk, and a risk class', () => {
    expect(AGENTS.map((a) => a.manifest.id)).toEqual(['retention', 'service-recovery', 'lead-nurturing', 'data-stewardship']);
    for (const { manifest } of AGENTS) {
      expect(manifest.owner && manifest.objective).toBeTruthy();
      expect(Object.keys(manifest.actions).length).toBeGreaterThan(0);
      for (const spec of Object.values(manifest.actions)) expect(spec!.autonomy).toBeGreaterThanOrEqual(0);
    }
  });

  it('EV is p × impact − cost − risk penalty', () => {
    const ev = expectedValue(
      { value: 0.5, source: 'rule', detail: '' },
      { value: 100, source: 'rule', detail: '' },
      { value: 10, source: 'rule', detail: '' },
      'medium',
    );
    expect(ev.riskPenalty.value).toBe(10);
    expect(ev.value).toBe(30);
  });
});

describe('retention agent', () => {
  it('stays quiet for a healthy customer', () => {
    expect(retentionAgent.propose(calm)).toEqual([]);
  });

  it.each([
    ['a usage drop', { usageTrend: 0.4 }],
    ['a payment failure', { paymentFailures30d: 1 }],
    ['a low NPS', { lastNps: 4 }],
  ])('proposes on %s, best EV first, with a rule-based probability when no model is given', (_label, f) => {
    const proposals = retentionAgent.propose(withFeatures(f));
    expect(proposals.length).toBeGreaterThan(0);
    expect(proposals.length).toBeLessThanOrEqual(2);
    proposals.forEach(expectWellFormed);
    expect(proposals[0]!.ev.value).toBeGreaterThanOrEqual(proposals[proposals.length - 1]!.ev.value);
    expect(proposals[0]!.ev.pSuccess.source).toBe('rule');
  });

  it('sizes the credit to the bill and records the model and version it used', () => {
    const examples = Array.from({ length: 200 }, (_, i) => ({
      churned: i % 3 === 0,
      input: {
        attributes: {},
        subscription: {
          contract: i % 3 === 0 ? 'month-to-month' : 'two-year',
          tenureMonths: (i * 7) % 72,
          monthlyAmount: 20 + (i % 80),
          services: {},
        },
      },
    }));
    const model = ChurnModel.train(examples, 'test-v1');
    const risky = withFeatures(
      { paymentFailures30d: 2, usageTrend: 0.3 },
      { subscription: { ...calm.subscription!, contract: 'month-to-month', monthlyAmount: 100 } },
    );
    const proposals = retentionAgent.propose(risky, { churn: model });
    const credit = proposals.find((p) => p.action === 'offer_credit')!;
    expect(credit.params.amountCents).toBe(2500);
    expect(credit.ev.pSuccess).toMatchObject({ source: 'model', model: { id: 'churn-logistic', version: 'test-v1' } });
    expect(credit.reason).toContain('$25.00');
  });
});

describe('service recovery agent', () => {
  it('stays quiet without repeated trouble', () => {
    expect(serviceRecoveryAgent.propose(calm)).toEqual([]);
  });

  it('opens a proactive case and notifies on repeated tickets or bad sentiment, and routes open cases first', () => {
    const tickets = serviceRecoveryAgent.propose(withFeatures({ tickets30d: 3 }));
    expect(tickets.map((p) => p.action).sort()).toEqual(['create_case', 'send_message']);
    tickets.forEach(expectWellFormed);
    const angry = serviceRecoveryAgent.propose(withFeatures({ ticketSentiment30d: -0.6, openCases: 2 }));
    expect(angry.map((p) => p.action).sort()).toEqual(['create_case', 'priority_routing', 'send_message']);
    expect(angry.find((p) => p.action === 'send_message')).toMatchObject({ channel: 'email', purpose: 'service' });
  });
});

describe('lead nurturing agent', () => {
  const lead = (
    over: Partial<NonNullable<CustomerContext['lead']>> = {},
    features: Record<string, number> = {},
    consents: CustomerContext['consents'] = [],
  ): CustomerContext => ({
    ...calm,
    accountId: null,
    customerId: null,
    subscription: null,
    consents,
    features: { webVisits7d: 0, emailEngagements30d: 0, ...features },
    lead: { id: 'lead_1', email: 'bill@initech.co.uk', status: 'new', ...over },
  });

  it('fills the company from a corporate email domain, never from free mail', () => {
    expect(companyFromEmail('bill@initech.co.uk')).toBe('Initech');
    expect(companyFromEmail('bill@gmail.com')).toBeNull();
    const enrich = leadNurturingAgent.propose(lead()).find((p) => p.action === 'update_record')!;
    expect(enrich.params).toMatchObject({ kind: 'leads', id: 'lead_1', fields: { company: 'Initech' } });
    expect(leadNurturingAgent.propose(lead({ email: 'bill@gmail.com' })).some((p) => p.action === 'update_record')).toBe(false);
  });

  it('routes an engaged, well-scored lead to a rep', () => {
    const proposals = leadNurturingAgent.propose(
      lead({ phone: '+1 555 0100', firstName: 'Bill' }, { webVisits7d: 3, emailEngagements30d: 1 }),
    );
    expect(proposals.map((p) => p.action)).toContain('route_lead');
    proposals.forEach(expectWellFormed);
  });

  it('proposes a nurture email for a weak lead and leaves consent to policy, saying in the reason when it was given', () => {
    const unconsented = leadNurturingAgent.propose(lead({ email: 'x@gmail.com' })).find((p) => p.action === 'send_message');
    expect(unconsented).toMatchObject({ channel: 'email', purpose: 'sales' });
    expect(unconsented!.reason).not.toContain('agreed');
    const consented = leadNurturingAgent.propose(lead({ email: 'x@gmail.com' }, {}, [{ channel: 'email', purpose: 'sales' }]));
    expect(consented.find((p) => p.action === 'send_message')!.reason).toContain('the lead agreed to sales email');
    expect(leadNurturingAgent.propose(lead({ email: null })).some((p) => p.action === 'send_message')).toBe(false);
  });

  it('leaves converted leads and quiet non-new leads alone', () => {
    expect(leadNurturingAgent.propose(lead({ status: 'converted' }))).toEqual([]);
    expect(leadNurturingAgent.propose(lead({ status: 'working' }))).toEqual([]);
  });
});

describe('data stewardship agent', () => {
  it('stays quiet for a complete record', () => {
    expect(dataStewardshipAgent.propose(calm)).toEqual([]);
  });

  it('asks a steward to fix missing contact data, an unnamed profile and likely duplicates', () => {
    const [task] = dataStewardshipAgent.propose({ ...calm, name: 'Unidentified customer', contacts: [], possibleDuplicates: ['acc_2'] });
    expect(task!.action).toBe('create_task');
    expect(String(task!.params.details)).toContain('no contact with an email or phone');
    expect(String(task!.params.details)).toContain('possible duplicate of acc_2');
    expect(task!.params.title).toMatch(/3 problem/);
    expectWellFormed(task!);
  });
});
