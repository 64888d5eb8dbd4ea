import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/ledger/index.ts';
import { generatePeople, registerPeople } from '../src/sense/identity/index.ts';
import { importCsv } from '../src/sense/import/index.ts';
import { insertRows } from '../src/store/index.ts';
import { createTestApp, daysAgo, type TestApp } from './helpers.ts';

/** Katherine Whitfield, known as a customer with one contact; she later writes from an address ACS has never seen. */
const KATE = { givenName: 'Kathy', surname: 'Whitfield', dateOfBirth: '1984-03-12', postcode: '2600', streetNumber: '14' };

const usage = (id: string, subject: Record<string, unknown>, days = 1) => ({
  id,
  type: 'usage',
  occurredAt: daysAgo(days),
  subject,
  data: { quantity: 3 },
});

describe('identity resolution in the product: signals, lineage, review, merge and unmerge', () => {
  let t: TestApp;
  let kate: string;

  beforeAll(async () => {
    t = await createTestApp();
    const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Katherine Whitfield', customerId: 'KW-1', kind: 'person' } });
    kate = acc.body.id;
    const contact = await t.call('POST', '/api/v1/contacts', {
      body: {
        accountId: kate,
        firstName: 'Katherine',
        lastName: 'Whitfield',
        email: 'kate@home.example',
        phone: '+61 2 6100 1234',
        attributes: { dateOfBirth: '1984-03-12', postcode: '2600', streetNumber: '14', suburb: 'Canberra' },
      },
    });
    expect(contact.status, contact.text).toBe(201);
    // Someone else entirely, so a stranger has a person to be compared with.
    const other = await t.call('POST', '/api/v1/accounts', { body: { name: 'Omar Haddad', customerId: 'OH-1', kind: 'person' } });
    await t.call('POST', '/api/v1/contacts', {
      body: {
        accountId: other.body.id,
        firstName: 'Omar',
        lastName: 'Haddad',
        email: 'omar@example.com',
        attributes: { dateOfBirth: '1990-07-01', postcode: '3000' },
      },
    });
  });
  afterAll(async () => t.close());

  it('a signal from an unknown address that describes a known person joins her profile, with the rule and score kept', async () => {
    const res = await t.call('POST', '/api/v1/signals', {
      body: usage('kw-work-1', { email: 'k.whitfield@work.example', person: KATE }, 0),
      role: 'agent',
    });
    expect(res.status, res.text).toBe(202);
    const accepted = res.body.accepted[0];
    expect(accepted.accountId).toBe(kate);
    expect(accepted.created).toBe('account');
    expect(accepted.identity).toMatchObject({ outcome: 'merged', survivorId: kate, rule: 'probabilistic' });
    expect(accepted.identity.probability).toBeGreaterThanOrEqual(0.95);
    const [signal] = await t.db.query<{ account_id: string }>('SELECT account_id FROM signals WHERE id = $1', ['kw-work-1']);
    expect(signal!.account_id).toBe(kate);

    // The new address now names her: the next signal from it resolves by identifier, no similarity needed.
    const next = await t.call('POST', '/api/v1/signals', {
      body: usage('kw-work-2', { email: 'k.whitfield@work.example' }),
      role: 'agent',
    });
    expect(next.body.accepted[0]).toMatchObject({ accountId: kate });
    expect(next.body.accepted[0].created).toBeUndefined();

    const lineage = await t.call('GET', '/api/v1/customers/KW-1/lineage', { role: 'reviewer' });
    expect(lineage.status, lineage.text).toBe(200);
    const sources = lineage.body.people.map((p: { sourceKind: string; matchedBy: string }) => `${p.sourceKind}:${p.matchedBy}`).sort();
    expect(sources).toEqual(['contacts:record', 'signals:probabilistic']);
    const fromSignal = lineage.body.people.find((p: { sourceKind: string }) => p.sourceKind === 'signals');
    expect(fromSignal.score).toBeCloseTo(accepted.identity.probability, 6);
    expect(lineage.body.merges).toHaveLength(1);
    expect(lineage.body.merges[0]).toMatchObject({ survivorId: kate, rule: 'probabilistic', unmergedAt: null });
    expect(lineage.body.merges[0].moved).toMatchObject({ signals: 1, identity_people: 1 });
    // Survivorship: names and birth dates take the commonest value, contact points the latest (the signal's, sent after the contact was written).
    expect(lineage.body.unified.surname).toMatchObject({ value: 'whitfield', rule: 'most_frequent', alternatives: 1 });
    expect(lineage.body.unified.email).toMatchObject({ value: 'k.whitfield@work.example', rule: 'most_recent', alternatives: 2 });
  });

  it('the merged profile\u2019s own ids lead to the survivor', async () => {
    const [merged] = await t.db.query<{ customer_id: string; merged_into: string }>(
      'SELECT customer_id, merged_into FROM accounts WHERE merged_into IS NOT NULL',
    );
    expect(merged!.merged_into).toBe(kate);
    const profile = await t.call('GET', `/api/v1/customers/${merged!.customer_id}/profile`);
    expect(profile.status, profile.text).toBe(200);
    expect(profile.body.account.id).toBe(kate);
    expect(profile.body.unified.dateOfBirth.value).toBe('19840312');
  });

  it('survivorship rules are set per field', async () => {
    const put = await t.call('PUT', '/api/v1/identity/settings', {
      body: { survivorship: { email: { rule: 'source_priority', sources: ['contacts'] } } },
    });
    expect(put.status, put.text).toBe(200);
    const lineage = await t.call('GET', `/api/v1/customers/${kate}/lineage`);
    expect(lineage.body.unified.email).toMatchObject({ value: 'kate@home.example', rule: 'source_priority' });
    const back = await t.call('PUT', '/api/v1/identity/settings', { body: {} });
    expect(back.body.survivorship).toEqual({});
  });

  it('unmerge puts back what the merge moved, and the signals that followed through the moved address', async () => {
    const [merge] = (await t.call('GET', `/api/v1/customers/${kate}/lineage`)).body.merges;
    const denied = await t.call('POST', `/api/v1/identity/merges/${merge.id}/unmerge`, { role: 'analyst' });
    expect(denied.status).toBe(403);
    const res = await t.call('POST', `/api/v1/identity/merges/${merge.id}/unmerge`, { role: 'reviewer' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: merge.id, unmergedAt: expect.any(String), followed: 1 });
    const rows = await t.db.query<{ id: string; account_id: string }>(
      "SELECT id, account_id FROM signals WHERE id LIKE 'kw-work-%' ORDER BY id",
    );
    expect(rows.map((r) => r.account_id)).toEqual([merge.mergedId, merge.mergedId]);
    // Both profiles recompute: the restored one counts its two usage signals, Kate's own has none left.
    const restored = await t.call('GET', `/api/v1/customers/${merge.mergedId}/profile`);
    expect(restored.status, restored.text).toBe(200);
    expect(restored.body.account.id).toBe(merge.mergedId);
    expect(restored.body.identities.map((i: { value: string }) => i.value)).toContain('k.whitfield@work.example');
    const features = await t.db.query<{ account_id: string; features: Record<string, number> }>(
      'SELECT account_id, features FROM customer_features WHERE account_id = ANY($1)',
      [[kate, merge.mergedId]],
    );
    const usageOf = (id: string) =>
      features.find((f) => f.account_id === id)?.features.usage30d ?? features.find((f) => f.account_id === id)?.features.usage7d;
    expect(usageOf(merge.mergedId)).toBeGreaterThan(0);
    expect(usageOf(kate) ?? 0).toBe(0);
    // The address names the restored profile again.
    const after = await t.call('POST', '/api/v1/signals', {
      body: usage('kw-work-3', { email: 'k.whitfield@work.example' }),
      role: 'agent',
    });
    expect(after.body.accepted[0].accountId).toBe(merge.mergedId);
    const again = await t.call('POST', `/api/v1/identity/merges/${merge.id}/unmerge`);
    expect(again.status).toBe(409);
    const ledger = (await t.call('GET', `/api/v1/ledger?type=identity.unmerged&subjectId=${kate}`)).body.data;
    expect(ledger[0].data).toMatchObject({ mergeId: merge.id, mergedId: merge.mergedId, followedSignals: 1 });
    expect((await verifyLedger(t.db)).ok).toBe(true);
  });

  it('an uncertain match waits for a steward, who can keep the two apart or merge them', async () => {
    // A weaker description: her name, and a postcode one digit off.
    const weak = { givenName: 'Katherine', surname: 'Whitfield', postcode: '2601' };
    const probe = await t.call('POST', '/api/v1/identity/match', { body: weak, role: 'reviewer' });
    expect(probe.status, probe.text).toBe(200);
    const p = probe.body.candidate.explanation.probability as number;
    expect(probe.body.candidate.accountId).toBe(kate);
    expect(p).toBeGreaterThan(0.001);
    expect(p).toBeLessThan(0.999);
    // Thresholds around it: below the match threshold, above the review threshold.
    expect((await t.call('PUT', '/api/v1/identity/settings', { body: { matchThreshold: 0.999, reviewThreshold: 0.001 } })).status).toBe(
      200,
    );

    // Two such records, with postcodes one digit from hers each (and two apart from each other, so they are not each other's best match).
    for (const [n, postcode] of [
      [1, '2601'],
      [2, '2610'],
    ] as const) {
      const res = await t.call('POST', '/api/v1/signals', {
        body: usage(`weak-${n}`, { email: `kw${n}@elsewhere.example`, person: { ...weak, postcode } }),
        role: 'agent',
      });
      expect(res.body.accepted[0].identity).toMatchObject({ outcome: 'review', candidateId: kate });
      expect(res.body.accepted[0].accountId).not.toBe(kate);
    }
    const queue = await t.call('GET', '/api/v1/identity/reviews', { role: 'reviewer' });
    expect(queue.status, queue.text).toBe(200);
    expect(queue.body.data).toHaveLength(2);
    const [first, second] = queue.body.data;
    expect(first).toMatchObject({
      status: 'open',
      candidate: { accountId: kate, customerId: 'KW-1' },
      profile: { fields: { surname: 'whitfield', postcode: '2601' } },
    });
    expect(first.score).toBeCloseTo(p, 6);
    expect(first.explanation.fields.find((f: { field: string }) => f.field === 'postcode').level).toBe('one edit');
    expect(first.explanation.fields.find((f: { field: string }) => f.field === 'surname').level).toBe('exact');

    expect((await t.call('POST', `/api/v1/identity/reviews/${first.id}/merge`, { role: 'analyst' })).status).toBe(403);
    const kept = await t.call('POST', `/api/v1/identity/reviews/${first.id}/keep-apart`, { role: 'reviewer' });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body).toMatchObject({ status: 'kept_apart', decidedBy: expect.stringMatching(/^token:/) });
    expect((await t.call('POST', `/api/v1/identity/reviews/${first.id}/merge`)).status).toBe(409);

    const merged = await t.call('POST', `/api/v1/identity/reviews/${second.id}/merge`, { role: 'reviewer' });
    expect(merged.status, merged.text).toBe(200);
    expect(merged.body).toMatchObject({ status: 'merged', mergeId: expect.any(String) });
    const [row] = await t.db.query<{ account_id: string }>("SELECT account_id FROM signals WHERE id = 'weak-2'");
    expect(row!.account_id).toBe(kate);
    expect((await t.call('GET', '/api/v1/identity/reviews')).body.data).toHaveLength(0);
    const done = (await t.call('GET', '/api/v1/identity/reviews?status=merged')).body.data;
    expect(done.map((r: { id: string }) => r.id)).toEqual([second.id]);

    // Undoing a steward's merge reopens nothing but marks the review unmerged.
    const undo = await t.call('POST', `/api/v1/identity/merges/${merged.body.mergeId}/unmerge`);
    expect(undo.status, undo.text).toBe(200);
    expect((await t.call('GET', `/api/v1/identity/reviews/${second.id}`)).body.status).toBe('unmerged');
    await t.call('PUT', '/api/v1/identity/settings', { body: {} });
  });

  it('a stranger starts a profile of their own', async () => {
    const res = await t.call('POST', '/api/v1/signals', {
      body: usage('stranger-1', {
        email: 'zed@nowhere.example',
        person: { givenName: 'Zebedee', surname: 'Quattlebaum', dateOfBirth: '1951-11-30', postcode: '0870' },
      }),
      role: 'agent',
    });
    expect(res.body.accepted[0]).toMatchObject({ created: 'account', identity: { outcome: 'new' } });
    expect([kate]).not.toContain(res.body.accepted[0].accountId);
  });

  it('a steward merges two profiles by hand; the same profile twice or a merged one is refused', async () => {
    const a = await t.call('POST', '/api/v1/accounts', { body: { name: 'Dup A', customerId: 'DUP-A', kind: 'person' } });
    const b = await t.call('POST', '/api/v1/accounts', { body: { name: 'Dup B', customerId: 'DUP-B', kind: 'person' } });
    await t.call('POST', '/api/v1/signals', { body: usage('dup-b-1', { customerId: 'DUP-B' }), role: 'agent' });
    const same = await t.call('POST', '/api/v1/identity/merges', { body: { survivorId: 'DUP-A', mergedId: 'DUP-A' } });
    expect(same.status).toBe(400);
    expect(same.body.issues[0].path).toBe('mergedId');
    const res = await t.call('POST', '/api/v1/identity/merges', { body: { survivorId: 'DUP-A', mergedId: 'DUP-B' }, role: 'reviewer' });
    expect(res.status, res.text).toBe(201);
    expect(res.body).toMatchObject({ survivorId: a.body.id, mergedId: b.body.id, rule: 'steward', moved: { signals: 1, identities: 1 } });
    // DUP-B's customer id now resolves to the survivor.
    const sig = await t.call('POST', '/api/v1/signals', { body: usage('dup-b-2', { customerId: 'DUP-B' }), role: 'agent' });
    expect(sig.body.accepted[0].accountId).toBe(a.body.id);
    const twice = await t.call('POST', '/api/v1/identity/merges', { body: { survivorId: 'DUP-A', mergedId: 'DUP-B' } });
    expect(twice.status).toBe(409);
    expect(twice.body.issues[0]).toMatchObject({ path: 'mergedId', message: `merged into ${a.body.id}` });
    const unknown = await t.call('POST', '/api/v1/identity/merges', { body: { survivorId: 'NOPE', mergedId: 'DUP-A' } });
    expect(unknown.status).toBe(404);
  });

  it('people imported without a customer find theirs: by a known identifier, or by similarity at the match threshold', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'acs-identity-'));
    const file = join(dir, 'people.csv');
    await writeFile(
      file,
      [
        'first_name,last_name,email,phone,Date of Birth,Postcode',
        // Kate's phone, written another way; Omar with a new address and his surname misspelt; a stranger.
        'Kate,Whitfield,,+61 (2) 6100-1234,,',
        'Omar,Hadad,o.haddad@newjob.example,,1990-07-01,3000',
        'Zara,Lindqvist,zara@example.org,,1977-02-02,4000',
      ].join('\n'),
    );
    try {
      const summary = await importCsv(t.db, 'contacts', file, { actor: 'tester' });
      expect(summary).toMatchObject({ imported: 3, attached: 2, rejected: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const rows = await t.db.query<{ first_name: string; account_id: string | null }>(
      "SELECT first_name, account_id FROM contacts WHERE (first_name, last_name) IN (('Kate', 'Whitfield'), ('Omar', 'Hadad'), ('Zara', 'Lindqvist')) ORDER BY first_name",
    );
    const [omar] = await t.db.query<{ id: string }>("SELECT id FROM accounts WHERE customer_id = 'OH-1'");
    expect(rows).toEqual([
      { first_name: 'Kate', account_id: kate },
      { first_name: 'Omar', account_id: omar!.id },
      { first_name: 'Zara', account_id: null },
    ]);
    const lineage = (await t.call('GET', '/api/v1/customers/OH-1/lineage')).body;
    const imported = lineage.people.find((p: { source: string }) => p.source === 'import');
    expect(imported).toMatchObject({
      sourceKind: 'contacts',
      matchedBy: 'probabilistic',
      fields: { surname: 'hadad', dateOfBirth: '19900701' },
    });
    expect(imported.score).toBeGreaterThanOrEqual(0.95);
    // The new address now names Omar.
    const sig = await t.call('POST', '/api/v1/signals', {
      body: usage('omar-new-job', { email: 'o.haddad@newjob.example' }),
      role: 'agent',
    });
    expect(sig.body.accepted[0].accountId).toBe(omar!.id);
    const attachedEntries = (await t.call('GET', '/api/v1/ledger?type=identity.attached')).body.data;
    expect(attachedEntries.map((e: { data: { matchedBy: string } }) => e.data.matchedBy).sort()).toEqual(['probabilistic', 'same phone']);
  });

  it('the matcher is fitted on the base’s own people once there are enough of them', async () => {
    const few = await t.call('POST', '/api/v1/identity/model/fit');
    expect(few.status).toBe(409);
    expect(few.body.detail).toMatch(/needs at least 100/);
    // 400 seeded synthetic people, a third of them duplicates, as customers with one contact each.
    const { records } = generatePeople({ records: 400, seed: 11 });
    await t.db.transaction(async (tx) => {
      await insertRows(
        tx,
        'accounts',
        { id: 'text', name: 'text' },
        records.map((r) => ({ id: `acc-fit-${r.id}`, name: r.id })),
      );
      await registerPeople(
        tx,
        records.map((r) => ({
          id: `contacts:fit-${r.id}`,
          sourceKind: 'contacts',
          sourceId: `fit-${r.id}`,
          source: 'test',
          accountId: `acc-fit-${r.id}`,
          leadId: null,
          fields: r.fields,
          observedAt: new Date().toISOString(),
          matchedBy: 'record',
        })),
      );
    });
    expect((await t.call('POST', '/api/v1/identity/model/fit', { role: 'reviewer' })).status).toBe(403);
    const fit = await t.call('POST', '/api/v1/identity/model/fit');
    expect(fit.status, fit.text).toBe(200);
    expect(fit.body.records).toBeGreaterThanOrEqual(400);
    expect(fit.body.pairsCompared).toBeGreaterThan(0);
    const [stored] = await t.db.query<{ model: { fittedOn: number; termFrequencies: Record<string, unknown> } }>(
      'SELECT model FROM identity_models',
    );
    expect(stored!.model.fittedOn).toBe(fit.body.records);
    // Fitted on real data, the model keeps term frequencies (the shipped one has none).
    expect(Object.keys(stored!.model.termFrequencies)).toContain('surname');
    // Kate's details still find one of her profiles (the steward split one off earlier) with the fitted model.
    const probe = await t.call('POST', '/api/v1/identity/match', {
      body: { givenName: 'Katherine', surname: 'Whitfield', dateOfBirth: '1984-03-12', postcode: '2600', streetNumber: '14' },
    });
    const hers = await t.db.query<{ account_id: string }>(
      "SELECT DISTINCT account_id FROM identity_people WHERE fields->>'surname' = 'whitfield' AND fields->>'dateOfBirth' = '19840312'",
    );
    expect(hers.map((h) => h.account_id)).toContain(probe.body.candidate.accountId);
    expect(probe.body.candidate.explanation.probability).toBeGreaterThan(0.95);
  });

  it('settings are validated field by field', async () => {
    const bad = await t.call('PUT', '/api/v1/identity/settings', {
      body: { rules: [{ name: 'x', criteria: [{ field: 'email', atLeast: 'close' }] }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0]).toMatchObject({ path: 'rules.0.criteria.0.atLeast', message: 'email has levels different, exact' });
    const order = await t.call('PUT', '/api/v1/identity/settings', { body: { matchThreshold: 0.5, reviewThreshold: 0.7 } });
    expect(order.status).toBe(400);
    expect(order.body.issues[0].path).toBe('reviewThreshold');
    const source = await t.call('PUT', '/api/v1/identity/settings', { body: { survivorship: { phone: { rule: 'source_priority' } } } });
    expect(source.body.issues[0].path).toBe('survivorship.phone.sources');
    expect((await t.call('PUT', '/api/v1/identity/settings', { body: {}, role: 'reviewer' })).status).toBe(403);
  });

  it('a subject needs an identifier or a named person with one more detail', async () => {
    const res = await t.call('POST', '/api/v1/signals', { body: usage('nameless', { person: { givenName: 'Ann' } }), role: 'agent' });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('a person with a name and one more detail');
  });
});
