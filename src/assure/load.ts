import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { PolicyLoadError, type PolicyProblem } from './errors.ts';

/** The policies shipped with ACS. */
export const DEFAULT_POLICY_DIR = fileURLToPath(new URL('../../policies/', import.meta.url));

const SCHEMA_FILE = 'schema.cedarschema';
const PERMIT_OUTCOMES = ['execute', 'approval'] as const;

/** One policy of a loaded set, with what its annotations say. */
export interface PolicyInfo {
  id: string;
  effect: 'permit' | 'forbid';
  /** For permits: what an allow through this policy means. Forbids deny. */
  outcome: 'execute' | 'approval' | 'deny';
  reason: string;
  file: string;
  line?: number;
}

/** A validated policy set, preparsed into Cedar's cache and ready for `PolicyGate`. */
export interface LoadedPolicies {
  dir: string;
  files: string[];
  schemaFile: string;
  policies: PolicyInfo[];
  /** Actions a request may name (declared with `appliesTo`); groups are not requestable. */
  actions: string[];
  /** Non-fatal validator warnings, located like errors. */
  warnings: string[];
  /** Ids of the preparsed policy set and schema in Cedar's cache. */
  policySetId: string;
  schemaName: string;
}

/** One file's text, with its byte range inside a concatenation. */
interface Source {
  file: string;
  text: string;
  bytes: Buffer;
  start: number;
}

/** Cedar reports byte offsets into UTF-8; converts one to a 1-based line and column (in characters). */
function lineCol(bytes: Buffer, offset: number): { line: number; column: number } {
  const before = bytes.subarray(0, Math.max(0, Math.min(offset, bytes.length))).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: [...(lines.at(-1) ?? '')].length + 1 };
}

function describe(err: cedar.DetailedError): string {
  // Policies are keyed by @id only after validation; Cedar's positional ids (`policy13`) would only confuse.
  const message = err.message.replace(/^for policy `policy\d+`, /, '');
  const labels = (err.sourceLocations ?? []).map((l) => l.label).filter((l): l is string => !!l);
  return [message, ...labels, ...(err.help ? [`help: ${err.help}`] : [])].join('; ');
}

/** Locates a Cedar error given offsets into `sources` laid end to end (one source for a single file). */
function locate(err: cedar.DetailedError, sources: Source[], fallbackFile: string): PolicyProblem {
  const offset = err.sourceLocations?.[0]?.start;
  const message = describe(err);
  if (offset === undefined) return { file: fallbackFile, message };
  const src = sources.filter((s) => s.start <= offset).at(-1) ?? sources[0];
  if (!src) return { file: fallbackFile, message };
  return { file: src.file, ...lineCol(src.bytes, offset - src.start), message };
}

function readText(path: string, file: string, dir: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyLoadError(dir, [{ file, message: `cannot read: ${(err as Error).message}` }]);
  }
}

function uniqueId(kind: string): string {
  return `acs-${kind}-${randomBytes(6).toString('hex')}`;
}

/**
 * Reads `*.cedar` and `schema.cedarschema` from `dir`, validates the policies against the schema (strict mode),
 * checks the ACS annotations (@id unique on every policy, @outcome on permits), and preparses both into Cedar.
 * Any problem throws a `PolicyLoadError` naming the file and line:column.
 */
export function loadPolicies(dir: string = DEFAULT_POLICY_DIR): LoadedPolicies {
  const root = resolve(dir);
  let names: string[];
  try {
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
    names = readdirSync(root).sort();
  } catch (err) {
    throw new PolicyLoadError(root, [{ file: root, message: `cannot read policy directory: ${(err as Error).message}` }]);
  }
  const files = names.filter((n) => n.endsWith('.cedar'));
  if (files.length === 0) throw new PolicyLoadError(root, [{ file: root, message: 'no *.cedar policy files' }]);
  if (!names.includes(SCHEMA_FILE)) throw new PolicyLoadError(root, [{ file: join(root, SCHEMA_FILE), message: 'schema file missing' }]);

  const schemaPath = join(root, SCHEMA_FILE);
  const schemaText = readText(schemaPath, schemaPath, root);
  const schemaSource: Source = { file: schemaPath, text: schemaText, bytes: Buffer.from(schemaText), start: 0 };
  // checkParseSchema reports true source offsets (schemaToJson does not), so ask it first.
  const schemaChecked = cedar.checkParseSchema(schemaText);
  if (schemaChecked.type === 'failure') {
    throw new PolicyLoadError(root, schemaChecked.errors.map((e) => locate(e, [schemaSource], schemaPath)));
  }
  const schemaParsed = cedar.schemaToJson(schemaText);
  if (schemaParsed.type === 'failure') throw new PolicyLoadError(root, schemaParsed.errors.map((e) => ({ file: schemaPath, message: describe(e) })));

  // Parse file by file, so a syntax error points at its own file; then validate the whole set at once.
  const sources: Source[] = [];
  const problems: PolicyProblem[] = [];
  let offset = 0;
  for (const name of files) {
    const path = join(root, name);
    const text = readText(path, path, root) + '\n';
    const src: Source = { file: path, text, bytes: Buffer.from(text), start: offset };
    offset += src.bytes.length;
    sources.push(src);
    const parsed = cedar.checkParsePolicySet({ staticPolicies: text });
    if (parsed.type === 'failure') problems.push(...parsed.errors.map((e) => locate(e, [{ ...src, start: 0 }], path)));
  }
  if (problems.length) throw new PolicyLoadError(root, problems);

  const all = sources.map((s) => s.text).join('');
  const validated = cedar.validate({ schema: schemaText, policies: { staticPolicies: all }, validationSettings: { mode: 'strict' } });
  if (validated.type === 'failure') {
    throw new PolicyLoadError(root, validated.errors.map((e) => locate(e, sources, sources[0]!.file)));
  }
  if (validated.validationErrors.length) {
    throw new PolicyLoadError(root, validated.validationErrors.map((v) => locate(v.error, sources, sources[0]!.file)));
  }
  const warnings = [...validated.validationWarnings.map((v) => v.error), ...validated.otherWarnings].map((w) => {
    const p = locate(w, sources, root);
    return `${p.file}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.message}`;
  });

  // Split into single policies to read their annotations and key the set by @id.
  const policies: PolicyInfo[] = [];
  const texts: Record<string, string> = {};
  for (const src of sources) {
    const parts = cedar.policySetTextToParts(src.text);
    if (parts.type === 'failure') throw new PolicyLoadError(root, parts.errors.map((e) => locate(e, [{ ...src, start: 0 }], src.file)));
    if (parts.policy_templates.length) problems.push({ file: src.file, message: 'policy templates are not supported' });
    const located = parts.policies
      .map((text) => ({ text, at: src.text.indexOf(text) }))
      .sort((a, b) => a.at - b.at);
    for (const { text, at } of located) {
      const where = at >= 0 ? lineCol(src.bytes, Buffer.byteLength(src.text.slice(0, at))) : undefined;
      const problem = (message: string) => problems.push({ file: src.file, ...where, message });
      const json = cedar.policyToJson(text);
      if (json.type === 'failure') {
        problems.push(...json.errors.map((e) => ({ file: src.file, ...where, message: describe(e) })));
        continue;
      }
      const ann = json.json.annotations ?? {};
      const id = ann.id?.trim();
      if (!id) {
        problem('policy has no @id("...") annotation');
        continue;
      }
      if (texts[id] !== undefined) {
        problem(`duplicate @id("${id}")`);
        continue;
      }
      const effect = json.json.effect;
      let outcome: PolicyInfo['outcome'] = 'deny';
      if (effect === 'permit') {
        const o = ann.outcome;
        if (!o || !(PERMIT_OUTCOMES as readonly string[]).includes(o)) {
          problem(`permit @id("${id}") needs @outcome("execute") or @outcome("approval")${o ? `, not "${o}"` : ''}`);
          continue;
        }
        outcome = o as PolicyInfo['outcome'];
      } else if (ann.outcome !== undefined) {
        problem(`forbid @id("${id}") must not carry @outcome: a forbid always denies`);
        continue;
      }
      texts[id] = text;
      policies.push({ id, effect, outcome, reason: ann.reason?.trim() || id, file: src.file, line: where?.line });
    }
  }
  if (problems.length) throw new PolicyLoadError(root, problems);
  if (policies.length === 0) throw new PolicyLoadError(root, [{ file: root, message: 'the *.cedar files hold no policies' }]);

  const ns = schemaParsed.json[''];
  const missing = ['Agent', 'Customer'].filter((t) => !ns?.entityTypes[t]);
  if (missing.length) {
    throw new PolicyLoadError(root, [{ file: schemaPath, message: `the schema must declare entity types ${missing.join(', ')} outside any namespace` }]);
  }
  const actions = Object.entries(ns?.actions ?? {})
    .filter(([, a]) => (a.appliesTo?.principalTypes.length ?? 0) > 0)
    .map(([name]) => name)
    .sort();

  const policySetId = uniqueId('policies');
  const schemaName = uniqueId('schema');
  const pre = cedar.preparsePolicySet(policySetId, { staticPolicies: texts });
  if (pre.type === 'failure') throw new PolicyLoadError(root, pre.errors.map((e) => ({ file: root, message: describe(e) })));
  const preSchema = cedar.preparseSchema(schemaName, schemaText);
  if (preSchema.type === 'failure') throw new PolicyLoadError(root, preSchema.errors.map((e) => locate(e, [schemaSource], schemaPath)));

  return { dir: root, files: sources.map((s) => s.file), schemaFile: schemaPath, policies, actions, warnings, policySetId, schemaName };
}
