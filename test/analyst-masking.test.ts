import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDuePlays } from '../src/act/index.ts';
import { PERMISSIONS, type Role } from '../src/api/permissions.ts';
import { REDACTIONS } from '../src/privacy/index.ts';
import { CLASSIFICATION, maskClassified } from '../src/trust/index.ts';
import { createTestApp, daysAgo, trouble, type TestApp } from './helpers.ts';

// One customer whose every personal value is a canary: none of them may reach an analyst, in any answer.
const NAME = 'Zelda Quuxington';
const EMAIL = 'zelda.canary@example.com';
const LEAD_EMAIL = 'quux.lead@example.com';
const PHONE = '+61 412 345 678';
const CARD = '4111 1111 1111 1111';
const EXTERNAL_ID = 'EXT-CANARY-77';
/** The canaries as they may be written anywhere (lower case; the phone and card also as digits, as identities keep them). */
const CANARIES = [
  'quuxington',
  'zelda',
  'zelda.canary',
  'quux.lead',
  '412 345 678',
  '412345678',
  '4111 1111',
  '4111111111111111',
  'ext-canary',
];
const leaks = (text: string) => CANARIES.filter((c) => text.toLowerCase().includes(c));
/** The canaries as the records keep them, which an admin and a reviewer see. */
const IN_CLEAR = ['zelda', 'quuxington', 'zelda.canary', 'quux.lead', '412 345 678', '412345678', '4111 1111', 'ext-canary'];

let t: TestApp;
const ids = {} as Record<'account' | 'contact' | 'lead' | 'case' | 'interaction' | 'signal' | 'quarantine', string>;

beforeAll(async () => {
  t = await createTestApp({ loop: { holdoutFraction: 0 } });
  const acc = await t.call('POST', '/api/v1/accounts', {
    body: { name: NAME, customerId: 'CAN-1', kind: 'person', externalId: EXTERNAL_ID, attributes: { nickname: 'Zed Quuxington' } },
  });
  ids.account = acc.body.id;
  await t.call('POST', '/api/v1/subscriptions', {
    body: { accountId: ids.account, contract: 'month-to-month', monthlyAmount: 80, tenureMonths: 3, paymentMethod: `Visa ${CARD}` },
  });
  const contact = await t.call('POST', '/api/v1/contacts', {
    body: { accountId: ids.account, firstName: 'Zelda', lastName: 'Quuxington', email: EMAIL, phone: PHONE },
  });
  ids.contact = contact.body.id;
  for (const purpose of ['service', 'marketing'])
    await t.call('POST', '/api/v1/consents', {
      body: { contactId: ids.contact, channel: 'email', purpose, status: 'granted', source: 'signup', capturedAt: daysAgo(100) },
    });
  const cs = await t.call('POST', '/api/v1/cases', {
    body: {
      accountId: ids.account,
      contactId: ids.contact,
      subject: `Card ${CARD} charged twice`,
      description: `Zelda Quuxington says: write to ${EMAIL} or call ${PHONE}, card ${CARD}.`,
    },
  });
  ids.case = cs.body.id;
  ids.lead = (
    await t.call('POST', '/api/v1/leads', {
      body: { firstName: 'Zelda', lastName: 'Quuxington', email: LEAD_EMAIL, company: 'Quuxington Pty' },
    })
  ).body.id;
  ids.interaction = (
    await t.call('POST', '/api/v1/interactions', {
      body: {
        type: 'email',
        accountId: ids.account,
        contactId: ids.contact,
        subject: 'Re: bill',
        body: `From ${EMAIL}: Ms Quuxington here`,
      },
    })
  ).body.id;
  const signals = [
    ...trouble('CAN-1', 1),
    {
      id: 'can-nps-1',
      type: 'nps',
      occurredAt: daysAgo(1),
      subject: { customerId: 'CAN-1' },
      data: { score: 2, comment: `Zelda here, ring me on ${PHONE} or ${EMAIL}` },
    },
    {
      id: 'can-ticket-1',
      type: 'support_ticket',
      occurredAt: daysAgo(1),
      subject: { customerId: 'CAN-1', email: EMAIL },
      data: { text: `My card ${CARD} was charged, reach me at ${EMAIL}`, priority: 'high' },
    },
  ];
  const accepted = await t.call('POST', '/api/v1/signals', { role: 'agent', body: signals });
  expect(accepted.status).toBeLessThan(300);
  // A signal quarantine keeps as sent: unknown type, the person's email and a comment naming her.
  await t.call('POST', '/api/v1/signals', {
    role: 'agent',
    body: {
      id: 'can-q-1',
      type: 'nps_response',
      occurredAt: daysAgo(1),
      subject: { customerId: 'CAN-1', email: EMAIL },
      data: { comment: `Quuxington, ${PHONE}` },
    },
  });
  await t.bus.drain();
  // The reviewer approves the retention credit; the play's next step proposes the message that tells the customer.
  const pending = await t.call('GET', '/api/v1/approvals', { role: 'reviewer' });
  for (const a of pending.body.data) await t.call('POST', `/api/v1/approvals/${a.id}/approve`, { role: 'reviewer', body: {} });
  await t.bus.drain();
  for (let i = 1; i <= 3; i++) await runDuePlays(t.db, t.plays, { actor: 'test', now: new Date(Date.now() + i * 60_000) });
  await t.bus.drain();
  ids.signal = 'can-ticket-1';
  const q = await t.call('GET', '/api/v1/quarantine');
  ids.quarantine = q.body.data[0].id;
}, 60_000);

afterAll(() => t?.close());

/** The routes that return customer or person data, with their test ids filled in. */
const personRoutes = () => [
  '/api/v1/accounts',
  `/api/v1/accounts/${ids.account}`,
  `/api/v1/customers/${ids.account}/profile`,
  `/api/v1/customers/${ids.account}/consents`,
  `/api/v1/customers/${ids.account}/lineage`,
  '/api/v1/contacts',
  `/api/v1/contacts/${ids.contact}`,
  `/api/v1/contacts/${ids.contact}/consents/effective`,
  '/api/v1/leads',
  `/api/v1/leads/${ids.lead}`,
  '/api/v1/cases',
  `/api/v1/cases/${ids.case}`,
  '/api/v1/interactions',
  `/api/v1/interactions/${ids.interaction}`,
  '/api/v1/subscriptions',
  `/api/v1/signals/${ids.signal}`,
  '/api/v1/quarantine',
  `/api/v1/quarantine/${ids.quarantine}`,
  '/api/v1/approvals',
  '/api/v1/proposals',
  '/api/v1/ledger',
];

async function get(path: string, role: Role) {
  const res = await t.call('GET', path, { role });
  expect(res.status, `${role} GET ${path}: ${res.text.slice(0, 300)}`).toBe(200);
  return res.text;
}

describe('an analyst sees personal data masked', () => {
  it('no canary in any answer of the routes that return people, and the placeholders say what was there', async () => {
    const all: string[] = [];
    for (const path of personRoutes()) {
      const text = await get(path, 'analyst');
      expect(leaks(text), `analyst GET ${path}`).toEqual([]);
      all.push(text);
    }
    const profile = JSON.parse(await get(`/api/v1/customers/${ids.account}/profile`, 'analyst'));
    expect(profile.account.name).toBe('[NAME]');
    expect(profile.account.externalId).toBe('[ID]');
    expect(profile.account.customerId).toBe('CAN-1'); // a business key, not masked
    expect(profile.account.id).toBe(ids.account);
    expect(profile.contacts[0]).toMatchObject({
      id: ids.contact,
      firstName: '[NAME]',
      lastName: '[NAME]',
      email: '[EMAIL]',
      phone: '[PHONE]',
    });
    expect(profile.subscriptions[0].paymentMethod).toBe('[WITHHELD]');
    const kase = JSON.parse(await get(`/api/v1/cases/${ids.case}`, 'analyst'));
    // Free text keeps its words; the trust masker's placeholders stand for the personal data.
    expect(kase.description).toBe('[NAME_1] says: write to [EMAIL_1] or call [PHONE_1], card [CARD_1].');
    expect(kase.subject).toBe('Card [CARD_1] charged twice');
    const signal = JSON.parse(await get(`/api/v1/signals/${ids.signal}`, 'analyst'));
    expect(JSON.stringify(signal)).toContain('[CARD_1]');
    expect(JSON.stringify(signal)).toContain('"priority":"high"');
    const joined = all.join('\n');
    for (const p of ['[NAME]', '[EMAIL]', '[PHONE]', '[ID]', '[WITHHELD]', '[EMAIL_1]', '[CARD_1]']) expect(joined).toContain(p);
  });

  it('the message a proposal would send: recipient and body masked for the analyst, in clear for the reviewer', async () => {
    const reviewer = await get('/api/v1/proposals', 'reviewer');
    expect(reviewer).toContain(`"to":"${EMAIL}"`);
    const analyst = await get('/api/v1/proposals', 'analyst');
    expect(analyst).toContain('"to":"[EMAIL]"');
    expect(leaks(analyst)).toEqual([]);
  });

  it('admins and reviewers see the same answers in clear (so the check above can fail)', async () => {
    for (const role of ['admin', 'reviewer'] as Role[]) {
      const texts = await Promise.all(personRoutes().map((p) => get(p, role)));
      const joined = texts.join('\n');
      for (const c of IN_CLEAR) expect(joined.toLowerCase(), `${role} sees ${c}`).toContain(c);
      expect(await get(`/api/v1/cases/${ids.case}`, role)).toContain(EMAIL);
      expect(await get(`/api/v1/customers/${ids.account}/profile`, role)).toContain(NAME);
    }
  });

  it('no query parameter, Accept header or method bypasses it, and errors are masked too', async () => {
    for (const suffix of ['?format=csv', '?raw=true&unmasked=1', '?fields=email']) {
      const res = await t.call('GET', `/api/v1/contacts/${ids.contact}${suffix}`, { role: 'analyst', headers: { accept: 'text/csv' } });
      expect(leaks(res.text), suffix).toEqual([]);
      expect(res.text).toContain('[EMAIL]');
    }
    const summary = await t.call('POST', `/api/v1/cases/${ids.case}/summary`, { role: 'analyst' });
    expect(summary.status).toBe(200);
    expect(leaks(summary.text)).toEqual([]);
    // An error that quotes the input answers the analyst masked.
    const bad = await t.call('GET', `/api/v1/cases/${encodeURIComponent(EMAIL)}`, { role: 'analyst' });
    expect(bad.status).toBe(404);
    expect((await t.call('GET', `/api/v1/cases/${encodeURIComponent(EMAIL)}`, { role: 'admin' })).text).toContain(EMAIL);
    expect(bad.text).not.toContain(EMAIL);
  });

  it('customer search: an analyst finds the customer by id with the name masked, and not at all by a personal field', async () => {
    const byId = await t.call('GET', '/api/v1/search?q=can-1', { role: 'analyst' });
    expect(byId.body.data.map((h: { accountId: string }) => h.accountId)).toEqual([ids.account]);
    expect(leaks(byId.text)).toEqual([]);
    for (const q of [EMAIL, 'Quuxington', '412 345 678', EXTERNAL_ID]) {
      const res = await t.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}`, { role: 'analyst' });
      expect(res.body.data, q).toEqual([]);
    }
    const reviewer = await t.call('GET', `/api/v1/search?q=${encodeURIComponent('quuxington')}`, { role: 'reviewer' });
    expect(reviewer.body.data.map((h: { accountId: string }) => h.accountId)).toContain(ids.account);
  });

  it('every GET route an analyst may call leaks no canary (a new route is covered or this fails)', async () => {
    const fill: Record<string, string> = {
      accounts: ids.account,
      customers: ids.account,
      contacts: ids.contact,
      leads: ids.lead,
      cases: ids.case,
      interactions: ids.interaction,
      signals: ids.signal,
      quarantine: ids.quarantine,
    };
    const routes = Object.entries(PERMISSIONS)
      .filter(([key, roles]) => key.startsWith('GET ') && roles.includes('analyst'))
      .map(([key]) => key.slice(4));
    expect(routes.length).toBeGreaterThan(40);
    let answered = 0;
    for (const route of routes) {
      const kind = route.split('/')[3]!;
      const path = route.replace(':id', fill[kind] ?? ids.account).replace(':name', 'churn');
      // The searches are asked for a canary, so an answer that matched it would show.
      const searched = path.endsWith('/search') ? `${path}?q=${encodeURIComponent(EMAIL)}` : path;
      const res = await t.call('GET', searched, {
        role: 'analyst',
      });
      expect(leaks(res.text), `analyst GET ${path} (${res.status})`).toEqual([]);
      if (res.status === 200) answered++;
    }
    expect(answered).toBeGreaterThan(routes.length * 0.8);
  });
});

describe('the classification', () => {
  it('classifies every personal column erasure destroys (src/privacy/erasure.repo.ts)', () => {
    const classified = new Set(CLASSIFICATION.flatMap((c) => c.columns ?? []));
    // Erasure also cancels open work (a status): bookkeeping, not personal data.
    const erased = REDACTIONS.flatMap((r) =>
      Object.keys(r.set)
        .filter((c) => c !== 'status')
        .map((c) => `${r.table}.${c}`),
    );
    expect(erased.length).toBeGreaterThan(30);
    expect(erased.filter((c) => !classified.has(c))).toEqual([]);
  });

  it('masks by field and context: a person name on an account, not an agent; a window end is not a recipient', () => {
    const input = {
      account: { id: 'acc_1', customerId: 'C-1', name: 'Ann Lee', kind: 'person' },
      agents: [{ id: 'retention', name: 'Retention agent' }],
      window: { from: '2026-01-01', to: '2026-02-01' },
      proposal: { params: { to: 'ann@example.com', channel: 'email', body: 'Hi Ann, your card 4111111111111111' } },
      identities: [
        { kind: 'customer_id', value: 'C-1' },
        { kind: 'phone', value: '61412345678' },
      ],
      note: 'unclassified field holding ann@example.com',
    };
    // What changes; the agent's name, the window and the customer id stay as they were.
    expect(maskClassified(input)).toEqual({
      ...input,
      account: { ...input.account, name: '[NAME]' },
      proposal: { params: { to: '[EMAIL]', channel: 'email', body: 'Hi [NAME_1], your card [CARD_1]' } },
      identities: [input.identities[0], { kind: 'phone', value: '[PHONE]' }],
      note: 'unclassified field holding [EMAIL]',
    });
  });
});
