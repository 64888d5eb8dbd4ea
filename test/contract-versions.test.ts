import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkRegistry, parseSignal, SIGNAL_REGISTRY, type ContractRegistry } from '../src/contracts/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const post = (body: unknown) => t.call('POST', '/api/v1/signals', { body, role: 'agent' });
const accepted = async (id: string) => {
  const [ledger] = await t.db.query<{ body: string }>("SELECT body FROM ledger WHERE type = 'signal.accepted' AND subject_id = $1", [id]);
  return { signal: (await t.call('GET', `/api/v1/signals/${id}`)).body, ledger: JSON.parse(ledger!.body).data as Record<string, unknown> };
};

describe('contract versions over HTTP', () => {
  it('lead_form 3 is current; 1 and 2 are upgraded on intake, stored as 3, and the ledger keeps the declared version', async () => {
    expect(SIGNAL_REGISTRY.lead_form).toMatchObject({ current: 3 });
    const implicit = await post({
      id: 'cv-form-implicit',
      type: 'lead_form',
      subject: { email: 'implicit@forms.example' },
      data: { firstName: 'Ida', formId: 'demo' },
    });
    const explicit = await post({
      id: 'cv-form-v1',
      type: 'lead_form',
      version: 1,
      subject: { email: 'v1@forms.example' },
      data: { firstName: 'Una' },
    });
    const v2 = await post({
      id: 'cv-form-v2',
      type: 'lead_form',
      version: 2,
      subject: { email: 'v2@forms.example' },
      data: { firstName: 'Dua', consents: [{ channel: 'email', purpose: 'sales' }] },
    });
    const current = await post({
      id: 'cv-form-v3',
      type: 'lead_form',
      version: 3,
      subject: { email: 'v3@forms.example' },
      data: { firstName: 'Tri', consents: [{ channel: 'email', purpose: 'sales', brand: 'acme' }] },
    });
    for (const res of [implicit, explicit, v2, current]) expect(res.status, res.text).toBe(202);

    for (const [id, from] of [
      ['cv-form-implicit', 1],
      ['cv-form-v1', 1],
      ['cv-form-v2', 2],
    ] as const) {
      const { signal, ledger } = await accepted(id);
      expect(signal.schemaVersion, id).toBe(3);
      expect(ledger, id).toMatchObject({ signalType: 'lead_form', version: 3, upgradedFrom: from });
    }
    const implicitRow = await accepted('cv-form-implicit');
    expect(implicitRow.signal.data).toEqual({ firstName: 'Ida', formId: 'demo' });
    expect((await accepted('cv-form-v2')).signal.data).toEqual({ firstName: 'Dua', consents: [{ channel: 'email', purpose: 'sales' }] });
    const v3 = await accepted('cv-form-v3');
    expect(v3.signal.schemaVersion).toBe(3);
    expect(v3.ledger).toMatchObject({ version: 3 });
    expect(v3.ledger).not.toHaveProperty('upgradedFrom');
    // The upgraded form made its lead as before.
    const lead = await t.call('GET', `/api/v1/leads/${implicit.body.accepted[0].leadId}`);
    expect(lead.body).toMatchObject({ firstName: 'Ida', email: 'implicit@forms.example' });
  });

  it('a box may name a brand only from version 3', async () => {
    const res = await post({
      type: 'lead_form',
      version: 2,
      subject: { email: 'brand@forms.example' },
      data: { consents: [{ channel: 'email', purpose: 'sales', brand: 'acme' }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ path: 'data.consents.0.brand', message: 'unknown field' }]);
  });

  it('an older version is checked against its own contract before it is upgraded', async () => {
    const res = await post({
      type: 'lead_form',
      version: 1,
      subject: { email: 'sneaky@forms.example' },
      data: { consents: [{ channel: 'email', purpose: 'sales' }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ path: 'data.consents', message: 'unknown field' }]);
  });

  it('a version above the known ones is refused naming version and the known versions', async () => {
    const res = await post({ type: 'lead_form', version: 4, subject: { email: 'future@forms.example' }, data: {} });
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([{ path: 'version', message: 'lead_form has no contract version 4; known: 1, 2, 3' }]);
  });

  it('a type with one version stores it as sent, with no upgrade noted', async () => {
    expect((await post({ id: 'cv-nps', type: 'nps', subject: { customerId: 'CV-1' }, data: { score: 7 } })).status).toBe(202);
    const { signal, ledger } = await accepted('cv-nps');
    expect(signal.schemaVersion).toBe(1);
    expect(ledger).toMatchObject({ signalType: 'nps', version: 1 });
    expect(ledger).not.toHaveProperty('upgradedFrom');
  });

  it('the OpenAPI description marks upgraded versions deprecated and documents the current one', async () => {
    const doc = (await t.call('GET', '/api/openapi.json', { token: null })).body;
    const variants = doc.paths['/api/v1/signals'].post.requestBody.content['application/json'].schema.anyOf[0].anyOf as {
      properties: { type: { const: string }; version: { const: number } };
      deprecated?: boolean;
      description?: string;
    }[];
    const forms = variants.filter((v) => v.properties.type.const === 'lead_form');
    const v1 = forms.find((v) => v.properties.version.const === 1)!;
    const v2 = forms.find((v) => v.properties.version.const === 2)!;
    const v3 = forms.find((v) => v.properties.version.const === 3)!;
    expect(v1).toMatchObject({ deprecated: true, description: 'lead_form version 1: accepted and upgraded to version 3 on intake' });
    expect(v2).toMatchObject({ deprecated: true, description: 'lead_form version 2: accepted and upgraded to version 3 on intake' });
    expect(v3.deprecated).toBeUndefined();
    expect(variants.filter((v) => v.deprecated).map((v) => v.properties.type.const)).toEqual(['lead_form', 'lead_form']);
  });
});

describe('the lifecycle rules', () => {
  const V1 = z.strictObject({ score: z.number().int().min(0).max(5) });
  const V2 = z.strictObject({ score: z.number().int().min(0).max(10) });
  const V3 = z.strictObject({ score: z.number().int().min(0).max(10), scale: z.literal(10) });
  const registry = (
    older: ContractRegistry[string]['older'],
    versions: Record<number, z.ZodType> = { 1: V1, 2: V2, 3: V3 },
  ): ContractRegistry => ({
    ...SIGNAL_REGISTRY,
    nps: { versions, current: Math.max(...Object.keys(versions).map(Number)), older },
  });
  const nps = (version: number | undefined, data: unknown) => ({
    type: 'nps',
    ...(version ? { version } : {}),
    subject: { customerId: 'CV-1' },
    data,
  });

  it('a retired version is refused naming version, the current version and what to send instead', () => {
    const r = registry({
      1: { retired: 'send version 3, with the score on a 0–10 scale and scale: 10' },
      2: { upgrade: (d) => ({ ...d, scale: 10 }) },
    });
    const expected = [
      {
        path: 'version',
        message: 'nps version 1 is retired; the current version is 3: send version 3, with the score on a 0–10 scale and scale: 10',
      },
    ];
    expect(parseSignal(nps(1, { score: 4 }), r)).toEqual({ ok: false, issues: expected });
    // Leaving version out means version 1.
    expect(parseSignal(nps(undefined, { score: 4 }), r)).toEqual({ ok: false, issues: expected });
    // The versions after it still work.
    expect(parseSignal(nps(2, { score: 9 }), r)).toMatchObject({
      ok: true,
      signal: { version: 3, upgradedFrom: 2, data: { score: 9, scale: 10 } },
    });
  });

  it('upgrades step by step to the current version, and an upgrade that breaks the current contract is reported', () => {
    const r = registry({ 1: { upgrade: (d) => ({ score: (d.score as number) * 2 }) }, 2: { upgrade: (d) => ({ ...d, scale: 10 }) } });
    expect(parseSignal(nps(1, { score: 4 }), r)).toEqual({
      ok: true,
      signal: { type: 'nps', version: 3, upgradedFrom: 1, subject: { customerId: 'CV-1' }, data: { score: 8, scale: 10 } },
    });
    expect(parseSignal(nps(3, { score: 4, scale: 10 }), r)).toEqual({
      ok: true,
      signal: { type: 'nps', version: 3, subject: { customerId: 'CV-1' }, data: { score: 4, scale: 10 } },
    });
    // The data is checked against the declared version first: 6 is too high on the 0-5 scale.
    expect(parseSignal(nps(1, { score: 6 }), r)).toMatchObject({ ok: false, issues: [{ path: 'data.score' }] });
    const broken = registry({ 1: { upgrade: (d) => d }, 2: { upgrade: (d) => d } });
    expect(parseSignal(nps(1, { score: 4 }), broken)).toEqual({
      ok: false,
      issues: [{ path: 'version', message: expect.stringMatching(/^nps version 1 could not be upgraded to 3: data\.scale /) }],
    });
  });

  it('a registry must declare the fate of every older version', () => {
    expect(() => checkRegistry(registry({ 2: { upgrade: (d) => d } }))).toThrow('nps version 1: declare whether it is upgraded or retired');
    expect(() => checkRegistry(registry({ 1: { upgrade: (d) => d }, 2: { retired: 'send 3' } }))).toThrow(
      'nps version 1 upgrades into version 2, which is retired',
    );
    expect(() => checkRegistry({ nps: { versions: { 1: V1, 2: V2 }, current: 1, older: {} } })).toThrow(
      'nps: the current version 1 must be the highest with a contract',
    );
    expect(() => checkRegistry(registry({ 1: { retired: 'send 3' }, 2: { retired: 'send 3' } }))).not.toThrow();
    expect(() => checkRegistry(SIGNAL_REGISTRY)).not.toThrow();
  });
});
