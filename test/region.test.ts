import { afterEach, describe, expect, it } from 'vitest';
import { PolicyGate } from '../src/assure/index.ts';
import { judgeSubject, loadContexts } from '../src/loop/index.ts';
import { DEFAULT_RULES, expectedValue, regionOf, regionOfCountry, type ProposalDraft } from '../src/reason/index.ts';
import { createTestApp, daysAgo, type TestApp } from './helpers.ts';

// Issue 13: region comes from the customer's data, and a default policy uses it (EU marketing needs a double opt-in).

describe('region from the country the data names', () => {
  it('maps EU member states to EU, the UK to UK, other codes to themselves, and nothing to unknown', () => {
    expect(['DE', 'fr', ' IE ', 'Germany', 'the Netherlands'].map(regionOfCountry)).toEqual(['EU', 'EU', 'EU', 'EU', 'EU']);
    expect(['GB', 'UK', 'United Kingdom'].map(regionOfCountry)).toEqual(['UK', 'UK', 'UK']);
    expect(['US', 'usa', 'CH', 'NO', 'Canada'].map(regionOfCountry)).toEqual(['US', 'US', 'CH', 'NO', 'CA']);
    expect([undefined, null, '', 'Atlantis', 42, 'USA!'].map(regionOfCountry)).toEqual(Array(6).fill('unknown'));
  });

  it("reads the account's attributes (country, countryCode, address.country) first, then its contacts' countries", () => {
    const ctx = (attributes: Record<string, unknown>, contacts: { country?: string | null }[] = []) => ({ attributes, contacts });
    expect(regionOf(ctx({ country: 'DE' }))).toBe('EU');
    expect(regionOf(ctx({ countryCode: 'US' }))).toBe('US');
    expect(regionOf(ctx({ address: { city: 'Leeds', country: 'GB' } }))).toBe('UK');
    expect(regionOf(ctx({ country: 'US' }, [{ country: 'DE' }]))).toBe('US');
    expect(regionOf(ctx({ gender: 'female' }, [{ country: null }, { country: 'PT' }]))).toBe('EU');
    expect(regionOf(ctx({}))).toBe('unknown');
  });
});

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const now = new Date();
const marketing: ProposalDraft = {
  agentId: 'lead-nurturing',
  action: 'send_message',
  channel: 'email',
  purpose: 'marketing',
  params: { channel: 'email', purpose: 'marketing', template: 'spring-offer' },
  risk: 'low',
  reason: 'Test: a marketing email.',
  ev: expectedValue(
    { value: 0.1, source: 'rule', detail: '' },
    { value: 50, source: 'rule', detail: '' },
    { value: 0.5, source: 'rule', detail: '' },
    'low',
  ),
};

/** A customer with one contact and a marketing-email grant, single or double opt-in (confirmed), as the records API writes them. */
async function customer(
  app: TestApp,
  customerId: string,
  where: { account?: Record<string, unknown>; contact?: Record<string, unknown> },
  doubleOptIn: boolean,
) {
  const acc = await app.call('POST', '/api/v1/accounts', {
    body: { name: `Customer ${customerId}`, customerId, kind: 'person', ...(where.account ? { attributes: where.account } : {}) },
  });
  expect(acc.status).toBe(201);
  const contact = await app.call('POST', '/api/v1/contacts', {
    body: {
      accountId: acc.body.id,
      email: `${customerId.toLowerCase()}@example.com`,
      ...(where.contact ? { attributes: where.contact } : {}),
    },
  });
  const consent = await app.call('POST', '/api/v1/consents', {
    body: {
      contactId: contact.body.id,
      channel: 'email',
      purpose: 'marketing',
      status: 'granted',
      source: 'signup',
      capturedAt: daysAgo(10),
      ...(doubleOptIn ? { doubleOptIn: true } : {}),
    },
  });
  expect(consent.status).toBe(201);
  if (doubleOptIn)
    expect((await app.call('POST', `/api/v1/consents/${consent.body.id}/confirm`, { body: { confirmedAt: daysAgo(9) } })).status).toBe(200);
  return acc.body.id as string;
}

describe('the EU double opt-in policy, decided on what the records hold', () => {
  it("denies an EU customer's marketing email without a double opt-in, allows it with one, and allows a US customer's", async () => {
    t = await createTestApp();
    const gate = PolicyGate.load();
    const ids = {
      euSingle: await customer(t, 'EU-1', { account: { country: 'DE' } }, false),
      euDouble: await customer(t, 'EU-2', { account: { address: { country: 'France' } } }, true),
      euByContact: await customer(t, 'EU-3', { contact: { country: 'IE' } }, false),
      usSingle: await customer(t, 'US-1', { account: { country: 'US' } }, false),
      nowhere: await customer(t, 'XX-1', {}, false),
    };
    const contexts = await loadContexts(t.db, Object.values(ids), [], now);
    const judged = Object.fromEntries(
      Object.entries(ids).map(([name, id]) => {
        const ctx = contexts.find((c) => c.accountId === id)!;
        const v = judgeSubject(
          ctx,
          [marketing],
          [],
          { ...DEFAULT_RULES, creditBudgetLeftCents: 0 },
          { gate, settings: new Map(), held: false },
          now,
        );
        const [d] = v.decided;
        return [
          name,
          {
            region: d!.request.customer.region,
            doubleOptIn: d!.request.context.doubleOptIn,
            outcome: d!.decision.outcome,
            policyIds: d!.decision.policyIds,
          },
        ];
      }),
    );
    expect(judged).toEqual({
      euSingle: { region: 'EU', doubleOptIn: false, outcome: 'deny', policyIds: ['eu-marketing-double-opt-in'] },
      euDouble: { region: 'EU', doubleOptIn: true, outcome: 'execute', policyIds: ['low-risk-outreach-l3'] },
      euByContact: { region: 'EU', doubleOptIn: false, outcome: 'deny', policyIds: ['eu-marketing-double-opt-in'] },
      usSingle: { region: 'US', doubleOptIn: false, outcome: 'execute', policyIds: ['low-risk-outreach-l3'] },
      nowhere: { region: 'unknown', doubleOptIn: false, outcome: 'execute', policyIds: ['low-risk-outreach-l3'] },
    });
  });
});
