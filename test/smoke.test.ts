import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('smoke', () => {
  it('creates an account and ingests a signal into its profile', async () => {
    const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Acme', customerId: 'C-1' } });
    expect(acc.status).toBe(201);
    const con = await t.call('POST', '/api/v1/contacts', { body: { accountId: acc.body.id, email: 'Ann@Example.com', firstName: 'Ann' } });
    expect(con.status).toBe(201);
    const sig = await t.call('POST', '/api/v1/signals', {
      body: { type: 'nps', subject: { email: 'ann@example.COM' }, data: { score: 3 } },
    });
    expect(sig.status).toBe(202);
    expect(sig.body.accepted[0].accountId).toBe(acc.body.id);
    await t.bus.drain();
    const prof = await t.call('GET', `/api/v1/customers/C-1/profile`);
    expect(prof.status).toBe(200);
    expect(prof.body.features.values.lastNps).toBe(3);
    expect(prof.body.timeline[0].type).toBe('nps');
    const v = await t.call('GET', '/api/v1/ledger/verify');
    expect(v.body.ok).toBe(true);
  });
});
