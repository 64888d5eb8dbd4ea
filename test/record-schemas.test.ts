import { afterAll, beforeAll, expect, it } from 'vitest';
import type { z } from 'zod';
import { RECORD_SCHEMAS } from '../src/contracts/api/index.ts';
import { RECORD_KINDS } from '../src/contracts/index.ts';
import { snake } from '../src/records/records.ts';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

it('each record kind\u2019s answer schema names exactly the columns of its table', async () => {
  for (const kind of RECORD_KINDS) {
    const columns = await t.db.query<{ column_name: string }>(
      'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
      [kind],
    );
    expect(columns.length, kind).toBeGreaterThan(0);
    const fields = Object.keys((RECORD_SCHEMAS[kind] as z.ZodObject).shape).map(snake);
    expect(fields.sort(), kind).toEqual(columns.map((c) => c.column_name).sort());
  }
});

it('every success answer with a body of the record, agent, policy, insight, model, trust, knowledge and assist routes has a schema in the document', async () => {
  const doc = (await t.call('GET', '/api/openapi.json', { token: null })).body as {
    paths: Record<
      string,
      Record<string, { tags: string[]; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> }>
    >;
  };
  const recordPaths = new Set(RECORD_KINDS.flatMap((k) => [`/api/v1/${k}`, `/api/v1/${k}/{id}`]));
  const areas = new Set(['agents', 'policies', 'insights', 'models', 'trust', 'knowledge', 'assist']);
  let checked = 0;
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      if (!recordPaths.has(path) && !areas.has(op.tags[0]!)) continue;
      for (const [status, answer] of Object.entries(op.responses)) {
        if (Number(status) >= 300 || status === '204') continue;
        expect(answer.content?.['application/json']?.schema?.$ref, `${method.toUpperCase()} ${path} ${status}`).toMatch(
          /^#\/components\/schemas\//,
        );
        checked++;
      }
    }
  }
  // 5 routes per record kind, less the delete's 204; the 31 routes of five areas (the supervisor's three, the uplift
  // model's report, the retrain, the PII mask, the autonomy preview and change history, and policy adoption, its
  // versions, one version and a restore among them); the knowledge routes' 9 answers (the document import has
  // two; a source's documents one); and the 3 assist routes (suggested reply, case summary, answer).
  expect(checked).toBe(RECORD_KINDS.length * 4 + 31 + 9 + 3);
});

it('a date column is served as that day, whatever the server\u2019s time zone', async () => {
  const tz = process.env.TZ;
  process.env.TZ = 'Europe/Berlin';
  try {
    const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Dated Account' } });
    const opp = await t.call('POST', '/api/v1/opportunities', {
      body: { accountId: acc.body.id, name: 'Dated deal', closeDate: '2024-03-01' },
    });
    expect(opp.status, opp.text).toBe(201);
    expect(opp.body.closeDate).toBe('2024-03-01T00:00:00.000Z');
    expect((await t.call('GET', `/api/v1/opportunities/${opp.body.id}`)).body.closeDate).toBe('2024-03-01T00:00:00.000Z');
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});
