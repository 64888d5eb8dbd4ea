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

/** One policy or schema source held in memory: the name problems will give it, and its text. */
export interface PolicySource {
  file: string;
  text: string;
}

/** A policy set that parsed, validated against its schema and passed the annotation checks; not yet in Cedar's cache. */
export interface CheckedPolicies {
  label: string;
  sources: PolicySource[];
  schema: PolicySource;
  policies: PolicyInfo[];
  actions: string[];
  warnings: string[];
  /** Each policy's text by @id: what Cedar preparses. */
  texts: Record<string, string>;
}

/** A validated policy set, preparsed into Cedar's cache and ready for `PolicyGate`. */
export interface LoadedPolicies {
  /** Where the set came from: its directory, or the label it was loaded under. */
  dir: string;
  files: string[];
  /** Each policy file's name (as in `files`) and text, as loaded: what the gate decides with. */
  sources: PolicySource[];
  schemaFile: string;
  schemaText: string;
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
 * Reads `*.cedar` and `schema.cedarschema` from `dir` (the `*.cedar` files in name order) and loads them with
 * `loadPolicySources`. Any problem throws a `PolicyLoadError` naming the file (full path) and line:column.
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
  const schema = { file: schemaPath, text: readText(schemaPath, schemaPath, root) };
  const sources = files.map((name) => {
    const path = join(root, name);
    return { file: path, text: readText(path, path, root) };
  });
  return loadPolicySources(sources, schema, root);
}

/**
 * Validates policy sources held in memory (`checkPolicySources`) and preparses the set and the schema into Cedar's
 * cache under new ids, ready for `PolicyGate`. `label` names the set in errors (a directory, or e.g. "candidate").
 * Cedar cannot release a preparsed set, so each call keeps its set in memory for good: load a set the server will run
 * (once, at start-up), never one per request. Candidate sets are checked with `checkPolicySources` instead.
 */
export function loadPolicySources(files: PolicySource[], schema: PolicySource, label: string): LoadedPolicies {
  const checked = checkPolicySources(files, schema, label);
  const policySetId = uniqueId('policies');
  const schemaName = uniqueId('schema');
  preparseCheckedPolicies(policySetId, checked);
  const preSchema = cedar.preparseSchema(schemaName, schema.text);
  if (preSchema.type === 'failure')
    throw new PolicyLoadError(
      label,
      preSchema.errors.map((e) => ({ file: schema.file, message: describe(e) })),
    );
  return {
    dir: label,
    files: checked.sources.map((s) => s.file),
    sources: checked.sources,
    schemaFile: schema.file,
    schemaText: schema.text,
    policies: checked.policies,
    actions: checked.actions,
    warnings: checked.warnings,
    policySetId,
    schemaName,
  };
}

/**
 * Puts a checked set into Cedar's cache under `policySetId`. Cedar keeps preparsed sets by id and has no call to
 * release one: preparsing under an id already in use replaces what that id held.
 */
export function preparseCheckedPolicies(policySetId: string, checked: CheckedPolicies): void {
  const pre = cedar.preparsePolicySet(policySetId, { staticPolicies: checked.texts });
  if (pre.type === 'failure')
    throw new PolicyLoadError(
      checked.label,
      pre.errors.map((e) => ({ file: checked.label, message: describe(e) })),
    );
}

/**
 * Parses each policy source, validates the whole set against the schema (strict mode) and checks the ACS annotations
 * (@id unique on every policy, @outcome on permits). Touches no Cedar cache. Any problem throws a `PolicyLoadError`
 * naming the source's `file` and line:column.
 */
export function checkPolicySources(files: PolicySource[], schema: PolicySource, label: string): CheckedPolicies {
  if (files.length === 0) throw new PolicyLoadError(label, [{ file: label, message: 'no *.cedar policy files' }]);
  const schemaSource: Source = { file: schema.file, text: schema.text, bytes: Buffer.from(schema.text), start: 0 };
  // checkParseSchema reports true source offsets (schemaToJson does not), so ask it first.
  const schemaChecked = cedar.checkParseSchema(schema.text);
  if (schemaChecked.type === 'failure') {
    throw new PolicyLoadError(
      label,
      schemaChecked.errors.map((e) => locate(e, [schemaSource], schema.file)),
    );
  }
  const schemaParsed = cedar.schemaToJson(schema.text);
  if (schemaParsed.type === 'failure')
    throw new PolicyLoadError(
      label,
      schemaParsed.errors.map((e) => ({ file: schema.file, message: describe(e) })),
    );

  // Parse file by file, so a syntax error points at its own file; then validate the whole set at once.
  const sources: Source[] = [];
  const problems: PolicyProblem[] = [];
  let offset = 0;
  for (const f of files) {
    const text = f.text + '\n';
    const src: Source = { file: f.file, text, bytes: Buffer.from(text), start: offset };
    offset += src.bytes.length;
    sources.push(src);
    const parsed = cedar.checkParsePolicySet({ staticPolicies: text });
    if (parsed.type === 'failure') problems.push(...parsed.errors.map((e) => locate(e, [{ ...src, start: 0 }], f.file)));
  }
  if (problems.length) throw new PolicyLoadError(label, problems);

  const all = sources.map((s) => s.text).join('');
  const validated = cedar.validate({ schema: schema.text, policies: { staticPolicies: all }, validationSettings: { mode: 'strict' } });
  if (validated.type === 'failure') {
    throw new PolicyLoadError(
      label,
      validated.errors.map((e) => locate(e, sources, sources[0]!.file)),
    );
  }
  if (validated.validationErrors.length) {
    throw new PolicyLoadError(
      label,
      validated.validationErrors.map((v) => locate(v.error, sources, sources[0]!.file)),
    );
  }
  const warnings = [...validated.validationWarnings.map((v) => v.error), ...validated.otherWarnings].map((w) => {
    const p = locate(w, sources, label);
    return `${p.file}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.message}`;
  });

  // Split into single policies to read their annotations and key the set by @id.
  const policies: PolicyInfo[] = [];
  const texts: Record<string, string> = {};
  for (const src of sources) {
    const parts = cedar.policySetTextToParts(src.text);
    if (parts.type === 'failure')
      throw new PolicyLoadError(
        label,
        parts.errors.map((e) => locate(e, [{ ...src, start: 0 }], src.file)),
      );
    if (parts.policy_templates.length) problems.push({ file: src.file, message: 'policy templates are not supported' });
    const located = parts.policies.map((text) => ({ text, at: src.text.indexOf(text) })).sort((a, b) => a.at - b.at);
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
  if (problems.length) throw new PolicyLoadError(label, problems);
  if (policies.length === 0) throw new PolicyLoadError(label, [{ file: label, message: 'the *.cedar files hold no policies' }]);

  const ns = schemaParsed.json[''];
  const missing = ['Agent', 'Customer'].filter((t) => !ns?.entityTypes[t]);
  if (missing.length) {
    throw new PolicyLoadError(label, [
      { file: schema.file, message: `the schema must declare entity types ${missing.join(', ')} outside any namespace` },
    ]);
  }
  const actions = Object.entries(ns?.actions ?? {})
    .filter(([, a]) => (a.appliesTo?.principalTypes.length ?? 0) > 0)
    .map(([name]) => name)
    .sort();

  return {
    label,
    sources: files.map((f) => ({ file: f.file, text: f.text })),
    schema: { file: schema.file, text: schema.text },
    policies,
    actions,
    warnings,
    texts,
  };
}
