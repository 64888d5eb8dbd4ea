import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { migratedPgliteImage } from '../src/store/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated, empty embedded database's image on disk; empty when the suite runs on PostgreSQL. */
    pgliteImage: string;
  }
}

/**
 * Builds the migrated embedded database once per run, so each test file's databases start from its image instead of
 * running initdb and every migration again (test/helpers.ts openTestDb).
 */
export default async function setup(project: TestProject) {
  if (process.env.DATABASE_URL) {
    project.provide('pgliteImage', '');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'acs-test-image-'));
  const file = join(dir, 'migrated.tar');
  writeFileSync(file, Buffer.from(await (await migratedPgliteImage()).arrayBuffer()));
  project.provide('pgliteImage', file);
  return () => rmSync(dir, { recursive: true, force: true });
}
