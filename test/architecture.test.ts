import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// The dependency rules (.dependency-cruiser.cjs) hold for src/, and each of them can fail: a fixture tree that
// breaks them on purpose must be reported rule by rule.

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const FIXTURE = join(ROOT, 'test/fixtures/architecture');
const bin = (name: string) => join(ROOT, 'node_modules/.bin', name);

interface Violation {
  rule: string;
  from: string;
  to: string;
}

/** Runs depcruise from `cwd` with the project's config; rules match paths relative to it (src/…, console/src/…). */
async function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
  // depcruise exits non-zero when it finds violations; the JSON report is on stdout either way.
  const out = await run(bin('depcruise'), [...paths, '--config', CONFIG, '--output-type', 'json'], { cwd, maxBuffer: 64 << 20 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  );
  const report = JSON.parse(out.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  return report.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

describe('dependency rules', () => {
  it('src has no violations', async () => {
    expect(await cruise(ROOT, ['src'])).toEqual([]);
  });

  it('madge finds no import cycle in src', async () => {
    const { stdout } = await run(bin('madge'), ['--circular', '--extensions', 'ts', '--json', 'src'], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual([]);
  });

  it('reports each broken rule in the fixture, and nothing for the imports the rules allow', async () => {
    const found = await cruise(FIXTURE, ['src', 'console/src']);
    const key = (v: Violation) => `${v.rule}: ${v.from} -> ${v.to}`;
    expect(found.map(key).sort()).toEqual([
      // console/src/App.ts also imports src/contracts/api, which is allowed.
      'console-only-api-contract: console/src/App.ts -> src/records/index.ts',
      'contracts-import-nothing: src/contracts/index.ts -> src/records/index.ts',
      'layer-learn-assure: src/learn/index.ts -> src/sim/index.ts',
      'layer-lib-contracts-clock-config-errors: src/contracts/index.ts -> src/records/index.ts',
      'layer-lib-contracts-clock-config-errors: src/lib/index.ts -> src/store/index.ts',
      'layer-store: src/store/index.ts -> src/sense/index.ts',
      'lib-imports-nothing: src/lib/index.ts -> src/store/index.ts',
      'no-circular: src/sense/a.ts -> src/sense/b.ts',
      'no-deep-imports: src/reason/index.ts -> src/sense/b.ts',
      'no-demo-world-in-product: src/learn/index.ts -> src/sim/index.ts',
      // Not reported: world/ importing sim/ and records/, and cli/ importing world/ (the composition root).
    ]);
  });
});

describe('module surfaces', () => {
  const modules = readdirSync(join(ROOT, 'src')).filter((name) => statSync(join(ROOT, 'src', name)).isDirectory());

  it.each(modules)('src/%s/index.ts says what the module owns and only re-exports', (name) => {
    const text = readFileSync(join(ROOT, 'src', name, 'index.ts'), 'utf8');
    expect(text.startsWith(`/**\n * ${name}: `)).toBe(true);
    // Drop the comments, then every statement left must be a re-export.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const statements = code
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean);
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) expect(s).toMatch(/^export (type )?(\*|\{[^}]*\})( as \w+)? from '\.\/[^']+'$/);
  });
});
