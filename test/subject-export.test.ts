import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/ledger/index.ts';
import { createTestApp, ticketTrouble, troubledCustomer, type TestApp } from './helpers.ts';

describe('GET /api/v1/customers/{id}/export: everything ACS holds about a person', () => {
  let t: TestApp;
  let accountId: string;
  let otherId: string;

  beforeAll(async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    accountId = await troubledCustomer(t, 'DSR-1');
    otherId = await troubledCustomer(t, 'DSR-2');
    // The agents act on the first customer's trouble: proposals, a decision, a case opened and executed.
    expect((await t.call('POST', '/api/v1/signals', { body: ticketTrouble('DSR-1', 1), role: 'agent' })).status).toBe(202);
    expect((await t.call('POST', '/api/v1/signals', { body: ticketTrouble('DSR-2', 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();
    // A contact deleted later is still data ACS holds.
    const old = await t.call('POST', '/api/v1/contacts', { body: { accountId, email: 'old-address@example.com' } });
    expect((await t.call('DELETE', `/api/v1/contacts/${old.body.id}`)).status).toBe(204);
  });
  afterAll(async () => t.close());

  it('holds every section of the customer, soft-deleted records too, and nothing of anyone else', async () => {
    const res = await t.call('GET', '/api/v1/customers/DSR-1/export');
    expect(res.status, res.text).toBe(200);
    const x = res.body;
    expect(x).toMatchObject({ format: 'acs-subject-export-1', subject: { accountId, customerId: 'DSR-1' } });
    expect(x.counts).toMatchObject({ accounts: 1, contacts: 2, consents: 1, subscriptions: 1, signals: 3 });
    expect(x.data.contacts.map((c: { email: string }) => c.email).sort()).toEqual(['dsr-1@example.com', 'old-address@example.com']);
    expect(x.data.contacts.find((c: { email: string }) => c.email === 'old-address@example.com').deletedAt).toEqual(expect.any(String));
    // The agents' work on this customer, as recorded: proposals, their decisions, what ran, the case it opened.
    const [proposals] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM proposals WHERE account_id = $1', [accountId]);
    expect(x.counts.proposals).toBe(proposals!.n);
    expect(x.counts.decisions).toBeGreaterThan(0);
    expect(x.counts.executions).toBeGreaterThan(0);
    expect(x.counts.cases).toBeGreaterThan(0);
    for (const [name, rows] of Object.entries(x.data as Record<string, Record<string, unknown>[]>)) {
      expect(rows.length, name).toBe(x.counts[name]);
      expect(JSON.stringify(rows), name).not.toContain(otherId);
      expect(JSON.stringify(rows), name).not.toContain('DSR-2');
    }
    // The ledger entries about the exported records: each signal's acceptance among them.
    const ledgerSubjects = new Set(x.ledger.map((e: { subjectId: string }) => e.subjectId));
    for (const s of x.data.signals) expect(ledgerSubjects.has(s.id), s.id).toBe(true);
    expect(x.ledger.every((e: { subjectId: string }) => !String(e.subjectId).includes(otherId))).toBe(true);
  });

  it('is recorded in the ledger with its counts, and the chain still verifies', async () => {
    const res = await t.call('GET', `/api/v1/customers/${accountId}/export`);
    expect(res.status).toBe(200);
    const entries = (await t.call('GET', `/api/v1/ledger?type=customer.exported&subjectId=${accountId}`)).body.data;
    expect(entries.length).toBeGreaterThanOrEqual(1);
    expect(entries[0].data).toEqual({ format: 'acs-subject-export-1', counts: res.body.counts });
    expect((await verifyLedger(t.db)).ok).toBe(true);
  });

  it('is for admins only, and names an unknown customer', async () => {
    for (const role of ['reviewer', 'analyst', 'agent'] as const)
      expect((await t.call('GET', '/api/v1/customers/DSR-1/export', { role })).status, role).toBe(403);
    const missing = await t.call('GET', '/api/v1/customers/NOBODY/export');
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toContain('NOBODY');
  });
});
