import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_FILES, generateApiFiles } from '../scripts/gen-api.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// The console's typed client is generated from the contract; a route change without `npm run gen:api` fails here.
describe('the committed API contract files', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('are what `npm run gen:api` writes now', async () => {
    const fresh = await generateApiFiles();
    for (const key of Object.keys(API_FILES) as (keyof typeof API_FILES)[]) {
      const committed = readFileSync(new URL(`../${API_FILES[key]}`, import.meta.url), 'utf8');
      expect(committed === fresh[key], `${API_FILES[key]} is stale: run npm run gen:api`).toBe(true);
    }
  });

  it('carry the document the running server serves', async () => {
    const served = await t.app.request('/api/openapi.json');
    expect(await served.json()).toEqual(JSON.parse(readFileSync(new URL(`../${API_FILES.document}`, import.meta.url), 'utf8')));
  });
});
