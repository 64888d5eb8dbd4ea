import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sha256 } from '../ledger/index.ts';
import { PURPOSES, type Purpose } from './types.ts';

/**
 * Versioned prompts for the provider path: one Markdown file per prompt in prompts/, with front matter naming its id,
 * version and purpose, then a `## system` and a `## user` section. `{{name}}` slots are filled at generation time;
 * every untrusted slot is filled with data blocks (untrusted.ts). Changing a prompt's words means a new version.
 */

export const PROMPTS_DIR = fileURLToPath(new URL('./prompts/', import.meta.url));

export interface Prompt {
  id: string;
  version: number;
  purpose: Purpose;
  system: string;
  user: string;
  /** sha256 of the file: two runs with the same id and version used the same words. */
  hash: string;
}

export class PromptError extends Error {}

/** Parses one prompt file; a missing field or section is an error naming the file. */
export function parsePrompt(source: string, file = '(prompt)'): Prompt {
  const m = source.match(/^---\r?\n([\s\S]*?)\r?\n---\r?\n([\s\S]*)$/);
  if (!m) throw new PromptError(`${file}: no front matter (--- id, version, purpose ---)`);
  const meta = Object.fromEntries(
    m[1]!
      .split(/\r?\n/)
      .map((l) => l.match(/^\s*([a-z]+)\s*:\s*(.*?)\s*$/))
      .filter((x): x is RegExpMatchArray => x !== null)
      .map((x) => [x[1]!, x[2]!]),
  );
  const version = Number(meta.version);
  if (!meta.id || !/^[a-z0-9-]+$/.test(meta.id)) throw new PromptError(`${file}: id must be lower-case letters, digits and dashes`);
  if (!Number.isInteger(version) || version < 1) throw new PromptError(`${file}: version must be a positive integer`);
  if (!(PURPOSES as readonly string[]).includes(meta.purpose ?? ''))
    throw new PromptError(`${file}: purpose must be one of ${PURPOSES.join(', ')}`);
  const sections = m[2]!.split(/^## (system|user)\s*$/m);
  const system = sections.indexOf('system');
  const user = sections.indexOf('user');
  if (system < 0 || user < 0) throw new PromptError(`${file}: needs a "## system" and a "## user" section`);
  return {
    id: meta.id,
    version,
    purpose: meta.purpose as Purpose,
    system: sections[system + 1]!.trim(),
    user: sections[user + 1]!.trim(),
    hash: sha256(source),
  };
}

let cache: Map<Purpose, Prompt> | undefined;

/** The shipped prompts, one per purpose (read once). */
export function loadPrompts(dir = PROMPTS_DIR): Map<Purpose, Prompt> {
  if (dir === PROMPTS_DIR && cache) return cache;
  const out = new Map<Purpose, Prompt>();
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const p = parsePrompt(readFileSync(`${dir}/${f}`, 'utf8'), f);
    if (out.has(p.purpose)) throw new PromptError(`${f}: a second prompt for purpose ${p.purpose}`);
    out.set(p.purpose, p);
  }
  for (const purpose of PURPOSES) if (!out.has(purpose)) throw new PromptError(`no prompt for purpose ${purpose} in ${dir}`);
  if (dir === PROMPTS_DIR) cache = out;
  return out;
}

/** Fills `{{slot}}`s; a slot the caller does not fill is left empty. Values are inserted once, never re-expanded. */
export function renderPrompt(template: string, slots: Record<string, string>): string {
  return template
    .replace(/\{\{([a-z]+)\}\}/g, (_, name: string) => slots[name] ?? '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
