import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/ledger/index.ts';
import { createTestApp, daysAgo, type TestApp } from './helpers.ts';

/** A known customer who later writes from an address ACS has never seen: identity resolution merges the two on its own. */
const KATE = { givenName: 'Kathy', surname: 'Whitfield', dateOfBirth: '1984-03-12', postcode: '2600', streetNumber: '14' };

const usage = (id: string, subject: Record<string, unknown>) => ({
  id,
  type: 'usage',
  occurredAt: daysAgo(1),
  subject,
  data: { quantity: 3 },
});

describe('the merge history: readable, with who decided, why, and whether an automatic merge can be undone', () => {
  let t: TestApp;
  let kate: string;
  let auto: { id: string; merged: { accountId: string } };

  beforeAll(async () => {
    t = await createTestApp();
    kate = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Katherine Whitfield', customerId: 'KW-1', kind: 'person' } })).body
      .id;
    const contact = await t.call('POST', '/api/v1/contacts', {
      body: {
        accountId: kate,
        firstName: 'Katherine',
        lastName: 'Whitfield',
        email: 'kate@home.example',
        attributes: { dateOfBirth: '1984-03-12', postcode: '2600', streetNumber: '14' },
      },
    });
    expect(contact.status, contact.text).toBe(201);
    const other = await t.call('POST', '/api/v1/accounts', { body: { name: 'Omar Haddad', customerId: 'OH-1', kind: 'person' } });
    await t.call('POST', '/api/v1/contacts', {
      body: {
        accountId: other.body.id,
        firstName: 'Omar',
        lastName: 'Haddad',
        email: 'omar@example.com',
        attributes: { postcode: '3000' },
      },
    });
    const res = await t.call('POST', '/api/v1/signals', {
      body: usage('kw-work-1', { email: 'k.whitfield@work.example', person: KATE }),
      role: 'agent',
    });
    expect(res.body.accepted[0].identity).toMatchObject({ outcome: 'merged', survivorId: kate });
  });
  afterAll(async () => t.close());

  it('lists the automatic merge with both profiles, its rule and score, the fields that decided and the actor by name', async () => {
    expect((await t.call('GET', '/api/v1/identity/merges', { role: 'analyst' })).status).toBe(200);
    const res = await t.call('GET', '/api/v1/identity/merges', { role: 'reviewer' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toHaveLength(1);
    auto = res.body.data[0];
    expect(res.body.data[0]).toMatchObject({
      survivor: { accountId: kate, customerId: 'KW-1', name: 'Katherine Whitfield' },
      rule: 'probabilistic',
      automatic: true,
      undoable: true,
      undoBlockedBy: null,
      undoBlockedReason: null,
      unmergedAt: null,
    });
    expect(res.body.data[0].score).toBeGreaterThanOrEqual(0.95);
    const fields = res.body.data[0].decidingFields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['surname', 'dateOfBirth']));
    // Strongest evidence first, and only evidence for the match.
    const weights = res.body.data[0].decidingFields.map((f: { weight: number }) => f.weight);
    expect(weights).toEqual([...weights].sort((a, b) => b - a));
    expect(weights.every((w: number) => w > 0)).toBe(true);
    expect(res.body.data[0].actorName).not.toMatch(/^token:/);
    // The agent that sent the signal is named, not its token id.
    expect(res.body.data[0].actor).toMatch(/^token:/);
    expect(res.body.data[0].actorName).toBe('test agent');
  });

  it('is for staff: an agent may not read it; bad filters are a 400 naming the field', async () => {
    expect((await t.call('GET', '/api/v1/identity/merges', { role: 'agent' })).status).toBe(403);
    const bad = await t.call('GET', '/api/v1/identity/merges?state=maybe');
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('query.state');
    const cursor = await t.call('GET', '/api/v1/identity/merges?cursor=nope');
    expect(cursor.status).toBe(400);
    expect(cursor.body.issues[0].path).toMatch(/cursor/);
    expect((await t.call('GET', '/api/v1/identity/merges?customerId=NOBODY')).status).toBe(404);
  });

  it('a later merge that folds the survivor away blocks the undo, and the 409 names the merge to undo first', async () => {
    await t.call('POST', '/api/v1/accounts', { body: { name: 'Kate W. (billing)', customerId: 'KW-2', kind: 'person' } });
    const later = await t.call('POST', '/api/v1/identity/merges', { body: { survivorId: 'KW-2', mergedId: 'KW-1' }, role: 'reviewer' });
    expect(later.status, later.text).toBe(201);

    const list = (await t.call('GET', '/api/v1/identity/merges')).body.data;
    expect((await t.call('GET', '/api/v1/identity/merges?customerId=KW-2')).body.data.map((m: { id: string }) => m.id)).toEqual([
      later.body.id,
    ]);
    expect(list.map((m: { id: string }) => m.id)).toEqual([later.body.id, auto.id]);
    expect(list[0]).toMatchObject({ automatic: false, rule: 'steward', actorName: 'test reviewer', undoable: true });
    expect(list[1]).toMatchObject({ undoable: false, undoBlockedBy: later.body.id });
    expect(list[1].undoBlockedReason).toContain(later.body.id);

    const refused = await t.call('POST', `/api/v1/identity/merges/${auto.id}/unmerge`, { role: 'reviewer' });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain(`undo merge ${later.body.id} first`);

    // Paging walks the same history, newest first.
    const first = (await t.call('GET', '/api/v1/identity/merges?limit=1')).body;
    expect(first.data[0].id).toBe(later.body.id);
    const second = (await t.call('GET', `/api/v1/identity/merges?limit=1&cursor=${first.nextCursor}`)).body;
    expect(second.data[0].id).toBe(auto.id);

    expect((await t.call('POST', `/api/v1/identity/merges/${later.body.id}/unmerge`, { role: 'reviewer' })).status).toBe(200);
  });

  it('undoing the automatic merge splits the data back, is ledgered by name, and cannot be done twice', async () => {
    expect((await t.call('POST', `/api/v1/identity/merges/${auto.id}/unmerge`, { role: 'analyst' })).status).toBe(403);
    const res = await t.call('POST', `/api/v1/identity/merges/${auto.id}/unmerge`, { role: 'reviewer' });
    expect(res.status, res.text).toBe(200);
    const mergedId = auto.merged.accountId;
    const [signal] = await t.db.query<{ account_id: string }>('SELECT account_id FROM signals WHERE id = $1', ['kw-work-1']);
    expect(signal!.account_id).toBe(mergedId);
    const [person] = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM identity_people WHERE account_id = $1 AND source_kind = 'signals'",
      [mergedId],
    );
    expect(person!.n).toBe(1);
    const [features] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_features WHERE account_id = $1', [
      mergedId,
    ]);
    expect(features!.n).toBe(1);
    const restored = await t.call('GET', `/api/v1/customers/${mergedId}/profile`);
    expect(restored.body.account.id).toBe(mergedId);

    const entry = (await t.call('GET', `/api/v1/ledger?type=identity.unmerged&subjectId=${kate}`)).body.data[0];
    expect(entry.data).toMatchObject({ mergeId: auto.id, mergedId });
    expect(entry.actorName).toBe('test reviewer');

    const again = await t.call('POST', `/api/v1/identity/merges/${auto.id}/unmerge`, { role: 'reviewer' });
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain('already undone');
    const undone = (await t.call('GET', '/api/v1/identity/merges?state=undone')).body.data;
    expect(undone.find((m: { id: string }) => m.id === auto.id)).toMatchObject({
      undoable: false,
      undoBlockedReason: 'already undone',
      unmergedByName: 'test reviewer',
    });
    expect((await t.call('GET', '/api/v1/identity/merges?state=live')).body.data).toEqual([]);
    expect((await verifyLedger(t.db)).ok).toBe(true);
  });
});
