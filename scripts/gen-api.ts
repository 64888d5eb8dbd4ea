// Writes the HTTP contract (the server's OpenAPI document) and the console's typed client schema generated from it.
// `npm run gen:api` regenerates both; test/api-contract-files.test.ts fails when the committed copies are stale.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPI3 } from 'openapi-typescript';
import { openApiDocument } from '../src/api/app.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
/** Where the generated files are committed, relative to the repository root. */
export const API_FILES = { document: 'console/src/api/openapi.json', schema: 'console/src/api/schema.d.ts' } as const;

/** The contents of both generated files, from the route definitions the server mounts. */
export async function generateApiFiles(): Promise<Record<keyof typeof API_FILES, string>> {
  const doc = openApiDocument();
  const ast = await openapiTS(structuredClone(doc) as unknown as OpenAPI3);
  return { document: `${JSON.stringify(doc, null, 2)}\n`, schema: COMMENT_HEADER + astToString(ast) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await generateApiFiles();
  for (const key of Object.keys(API_FILES) as (keyof typeof API_FILES)[]) {
    writeFileSync(resolve(ROOT, API_FILES[key]), files[key]);
    console.log(`wrote ${API_FILES[key]}`);
  }
}
