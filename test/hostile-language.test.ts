import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.ts';

// The write routes issue 14 added (language, and compaction after erasure) meet hostile bodies with a 4xx, never a 500.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const deep = (n: number) => '{"text":' + '['.repeat(n) + ']'.repeat(n) + '}';
const BODIES = [
  deep(5000),
  '{"text":"a\\u0000b","question":"a\\u0000b","channel":"chat"}',
  '{"te\\u0000xt":"x"}',
  '{"text":"\\ud800","question":"\\udc00?","channel":"chat"}',
  '{"text":1e999999,"k":1e309}',
];
const ROUTES = [
  '/api/v1/pii/mask',
  '/api/v1/answer',
  '/api/v1/knowledge/documents',
  '/api/v1/cases/no-such-case/suggest-reply',
  '/api/v1/cases/no-such-case/summary',
  '/api/v1/privacy/compact',
];

describe('hostile bodies on the language routes', () => {
  for (const path of ROUTES)
    it(`${path}: deep nesting, NUL in keys and values, lone surrogates, huge numbers`, async () => {
      for (const raw of BODIES) {
        const res = await t.call('POST', path, { raw });
        expect(res.status, `${path} ${raw.slice(0, 40)}: ${res.text}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${path} ${raw.slice(0, 40)}: ${res.text}`).toBeLessThan(500);
      }
    });

  it('the summary of a case that exists: the body is refused before the case is read, with a 400', async () => {
    const opened = await t.call('POST', '/api/v1/cases', { body: { subject: 'Router keeps dropping' } });
    expect(opened.status, opened.text).toBe(201);
    const path = `/api/v1/cases/${opened.body.id}/summary`;
    for (const raw of BODIES) {
      const res = await t.call('POST', path, { raw });
      expect(res.status, `${raw.slice(0, 40)}: ${res.text}`).toBe(400);
    }
    // The same route with no body answers: the refusals above are about the bodies.
    expect((await t.call('POST', path)).status).toBe(200);
  });
});
