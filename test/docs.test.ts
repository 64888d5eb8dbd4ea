import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const docPages = readdirSync(join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .map((f) => `docs/${f}`);
const pages = ['README.md', ...docPages];
const read = (page: string) => readFileSync(join(root, page), 'utf8');

/** Relative link targets of a markdown text, without anchors. Code is not prose, and external links are not files. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const inline = [...prose.matchAll(/\]\(\s*(?:<([^>]+)>|([^)\s]+))(?:\s+"[^"]*")?\s*\)/g)].map((m) => (m[1] ?? m[2])!);
  const reference = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!);
  return [...inline, ...reference]
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#'))
    .map((t) => decodeURI(t.split('#')[0]!));
}

/** The fenced code blocks of the README's Quick start section, trimmed. */
function quickStartBlocks(readme: string): string[] {
  const start = readme.indexOf('\n## Quick start\n');
  if (start < 0) return [];
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

describe('documentation links', () => {
  it('finds relative links in prose and ignores code, external links and bare anchors', () => {
    const sample = [
      'See [a](docs/a.md#part), [b](<b c.md>) and [ext](https://example.org/x.md), [top](#top).',
      '`[not](code.md)`',
      '```',
      '[not](block.md)',
      '```',
      '[ref]: ../up.md',
    ].join('\n');
    expect(relativeLinks(sample)).toEqual(['docs/a.md', 'b c.md', '../up.md']);
  });

  it.each(pages)('every relative link in %s points to a file that exists', (page) => {
    const missing = relativeLinks(read(page)).filter((target) => !existsSync(resolve(root, dirname(page), target)));
    expect(missing).toEqual([]);
  });

  it('the README links every page under docs/', () => {
    const linked = new Set(relativeLinks(read('README.md')));
    expect(docPages.filter((page) => !linked.has(page))).toEqual([]);
  });
});

describe('README quick start', () => {
  it('shows exactly the two commands, each in its own block, and no other npm command', () => {
    const blocks = quickStartBlocks(read('README.md'));
    expect(blocks.slice(0, 2)).toEqual(['npm ci && npm start', 'npm ci && npm test']);
    const otherNpmLines = blocks
      .slice(2)
      .flatMap((block) => block.split('\n'))
      .filter((line) => /^\s*npm\s/.test(line));
    expect(otherNpmLines).toEqual([]);
  });
});
