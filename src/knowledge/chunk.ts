import { createHash } from 'node:crypto';

/** The formats a document can be imported from. */
export const FORMATS = ['md', 'html', 'txt'] as const;
export type DocumentFormat = (typeof FORMATS)[number];

/** A document read into headings and paragraphs, whatever its format. */
export type Block = { kind: 'heading'; level: number; text: string } | { kind: 'para'; text: string };

export interface ParsedDocument {
  /** From Markdown front matter or the first level-1 heading, an HTML <title> or first <h1>; null when none. */
  title: string | null;
  blocks: Block[];
}

/** One piece of a document as search returns it: the headings above it, and its text. */
export interface DocumentChunk {
  /** Position in the document, from 0. */
  ordinal: number;
  headingPath: string[];
  text: string;
}

/** Chunks larger than this (in characters) are split further, by paragraph, then by sentence. */
export const MAX_CHUNK_CHARS = 1500;

/** The format a file name implies, or null for a file import skips. */
export function formatOfPath(path: string): DocumentFormat | null {
  const ext = path.match(/\.([a-z0-9]+)$/i)?.[1]?.toLowerCase();
  if (ext === 'md' || ext === 'markdown') return 'md';
  if (ext === 'html' || ext === 'htm') return 'html';
  if (ext === 'txt' || ext === 'text') return 'txt';
  return null;
}

export function parseDocument(content: string, format: DocumentFormat): ParsedDocument {
  const text = content.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  if (format === 'md') return parseMarkdown(text);
  if (format === 'html') return parseHtml(text);
  return { title: null, blocks: paragraphs(text).map((p) => ({ kind: 'para', text: p })) };
}

const collapse = (s: string) => s.replace(/[ \t\f\v\u00a0]+/g, ' ').trim();

function paragraphs(text: string): string[] {
  return text
    .split(/\n[ \t]*\n/)
    .map((p) =>
      p
        .split('\n')
        .map((l) => l.trimEnd())
        .join('\n')
        .trim(),
    )
    .filter(Boolean);
}

/** Inline Markdown a heading may carry: emphasis, code spans, links and images (their text stays). */
function plainInline(s: string): string {
  return collapse(
    s
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/(\*\*|__)(.+?)\1/g, '$2')
      .replace(/(\*|_)(.+?)\1/g, '$2')
      .replace(/`([^`]*)`/g, '$1'),
  );
}

/**
 * Markdown: ATX (`## Title`) and setext (underlined) headings; fenced code blocks kept whole (a `#` inside one is
 * not a heading); front matter skipped (its `title:` is the title); HTML comments dropped. Paragraphs are runs of
 * non-blank lines, so a list or a table stays one paragraph.
 */
export function parseMarkdown(text: string): ParsedDocument {
  let title: string | null = null;
  let body = text.replace(/<!--[\s\S]*?-->/g, '');
  const front = body.match(/^---\n([\s\S]*?)\n---[ \t]*(\n|$)/);
  if (front) {
    const t = front[1]!.match(/^title:[ \t]*(.+)$/m)?.[1];
    if (t) title = collapse(t.replace(/^(['"])(.*)\1$/, '$2'));
    body = body.slice(front[0].length);
  }
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    const p = para.join('\n').trim();
    if (p) blocks.push({ kind: 'para', text: p });
    para = [];
  };
  const lines = body.split('\n');
  let fence: string | null = null;
  for (const line of lines) {
    if (fence) {
      para.push(line);
      if (line.trim().startsWith(fence)) {
        fence = null;
        flush();
      }
      continue;
    }
    const open = line.match(/^ {0,3}(`{3,}|~{3,})/);
    if (open) {
      flush();
      fence = open[1]!;
      para.push(line);
      continue;
    }
    const atx = line.match(/^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/);
    if (atx) {
      flush();
      const h = plainInline(atx[2] ?? '');
      if (h) blocks.push({ kind: 'heading', level: atx[1]!.length, text: h });
      continue;
    }
    // Setext: one line of text underlined by === (level 1) or --- (level 2).
    const under = line.match(/^ {0,3}(=+|-+)[ \t]*$/);
    if (under && para.length === 1 && !/^\s*([-*+]|\d+[.)])\s/.test(para[0]!)) {
      const h = plainInline(para[0]!);
      para = [];
      blocks.push({ kind: 'heading', level: under[1]!.startsWith('=') ? 1 : 2, text: h });
      continue;
    }
    if (!line.trim() || (under && para.length === 0)) {
      flush();
      continue;
    }
    para.push(line.trimEnd());
  }
  flush();
  title ??= blocks.find((b): b is Extract<Block, { kind: 'heading' }> => b.kind === 'heading' && b.level === 1)?.text ?? null;
  return { title, blocks };
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ndash: '\u2013',
  mdash: '\u2014',
  hellip: '\u2026',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201c',
  rdquo: '\u201d',
  euro: '\u20ac',
  pound: '\u00a3',
  copy: '\u00a9',
  reg: '\u00ae',
  trade: '\u2122',
  times: '\u00d7',
};

/** Character references: named ones above, decimal and hex; anything else stays as written. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      // No NUL, no surrogates, nothing past Unicode: PostgreSQL text cannot hold the first, JSON mangles the second.
      if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(code);
    }
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

// Elements whose content is never text a reader sees.
const DROPPED = /<(script|style|noscript|template|svg|math|iframe|object|head)\b[^>]*>[\s\S]*?(<\/\1\s*>|$)/gi;
const BLOCK = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'header',
  'footer',
  'nav',
  'aside',
  'ul',
  'ol',
  'li',
  'dl',
  'dt',
  'dd',
  'table',
  'thead',
  'tbody',
  'tr',
  'blockquote',
  'pre',
  'hr',
  'figure',
  'figcaption',
  'form',
  'fieldset',
  'details',
  'summary',
  'body',
  'html',
]);

/**
 * HTML without a parser dependency: scripts, styles, comments and the like are dropped with their content; tags are
 * removed, never interpreted; h1–h6 become headings; block elements end a paragraph (a list item starts with "- ",
 * table cells are separated by " | "); character references are decoded last, so an escaped tag stays text.
 */
export function parseHtml(html: string): ParsedDocument {
  const titleMatch = html.match(/<title\b[^>]*>([\s\S]*?)<\/title\s*>/i);
  const title = titleMatch ? collapse(decodeEntities(titleMatch[1]!.replace(/<[^>]*>/g, ''))) || null : null;
  const cleaned = html
    .replace(/<!--[\s\S]*?(-->|$)/g, ' ')
    .replace(/<!\[CDATA\[[\s\S]*?(\]\]>|$)/g, ' ')
    .replace(DROPPED, ' ');
  const blocks: Block[] = [];
  let buf = '';
  let heading: number | null = null;
  const flush = () => {
    const text = buf
      .split('\n')
      .map((l) => collapse(decodeEntities(l)))
      .filter(Boolean)
      .join('\n');
    buf = '';
    if (!text) return;
    if (heading !== null) blocks.push({ kind: 'heading', level: heading, text: collapse(text.replace(/\n/g, ' ')) });
    else blocks.push({ kind: 'para', text });
  };
  const tag = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)\b(?:[^>"']|"[^"]*"|'[^']*')*>|<![^>]*>|<\?[^>]*>/g;
  let last = 0;
  for (const m of cleaned.matchAll(tag)) {
    buf += cleaned.slice(last, m.index).replace(/\s+/g, ' ');
    last = m.index + m[0].length;
    const name = m[2]?.toLowerCase();
    if (!name) continue;
    const closing = m[1] === '/';
    const level = name.match(/^h([1-6])$/)?.[1];
    if (level) {
      flush();
      heading = closing ? null : Number(level);
    } else if (name === 'br') buf += '\n';
    else if (name === 'td' || name === 'th') buf += closing ? '' : ' | ';
    else if (BLOCK.has(name)) {
      if (heading === null) {
        if (name === 'li' && !closing) {
          buf += '\n- ';
        } else if (name === 'tr' || name === 'li' || name === 'dt' || name === 'dd') buf += '\n';
        else flush();
      }
    }
  }
  buf += cleaned.slice(last).replace(/\s+/g, ' ');
  flush();
  // Table rows start with the first cell's separator; drop it.
  for (const b of blocks) if (b.kind === 'para') b.text = b.text.replace(/^\| /gm, '');
  const h1 = blocks.find((b): b is Extract<Block, { kind: 'heading' }> => b.kind === 'heading' && b.level === 1)?.text ?? null;
  return { title: title ?? h1, blocks };
}

/**
 * Splits a parsed document along its headings. Each section (the paragraphs under one heading) is one chunk, or
 * several when it is longer than `maxChars`: whole paragraphs are packed up to the cap, a paragraph longer than the
 * cap is split at sentence ends, and a sentence longer than the cap at a space. Empty sections make no chunk.
 */
export function chunkDocument(doc: ParsedDocument, maxChars = MAX_CHUNK_CHARS): DocumentChunk[] {
  const chunks: DocumentChunk[] = [];
  const stack: { level: number; text: string }[] = [];
  let section: string[] = [];
  const emit = () => {
    const headingPath = stack.map((h) => h.text);
    for (const text of pack(section, maxChars)) chunks.push({ ordinal: chunks.length, headingPath, text });
    section = [];
  };
  for (const b of doc.blocks) {
    if (b.kind === 'heading') {
      emit();
      while (stack.length && stack[stack.length - 1]!.level >= b.level) stack.pop();
      stack.push({ level: b.level, text: b.text });
    } else section.push(b.text);
  }
  emit();
  return chunks;
}

function pack(paras: string[], max: number): string[] {
  const pieces = paras.flatMap((p) => (p.length <= max ? [p] : splitLong(p, max)));
  const out: string[] = [];
  let cur = '';
  for (const p of pieces) {
    if (cur && cur.length + 2 + p.length > max) {
      out.push(cur);
      cur = p;
    } else cur = cur ? `${cur}\n\n${p}` : p;
  }
  if (cur) out.push(cur);
  return out;
}

function splitLong(p: string, max: number): string[] {
  const sentences = p.split(/(?<=[.!?])\s+/);
  const out: string[] = [];
  let cur = '';
  const push = (s: string) => {
    if (cur && cur.length + 1 + s.length > max) {
      out.push(cur);
      cur = s;
    } else cur = cur ? `${cur} ${s}` : s;
  };
  for (const s of sentences) {
    if (s.length <= max) {
      push(s);
      continue;
    }
    // A sentence past the cap: cut at the last space before it (or at the cap when there is none).
    let rest = s;
    while (rest.length > max) {
      const cut = rest.lastIndexOf(' ', max);
      const at = cut > max / 2 ? cut : max;
      push(rest.slice(0, at).trim());
      rest = rest.slice(at).trim();
    }
    if (rest) push(rest);
  }
  if (cur) out.push(cur);
  return out;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export const contentHash = (content: string) => sha(content);

/**
 * A chunk's id: the same source, path, heading path and position under that heading path give the same id, so a
 * re-import updates chunks in place and citations to unchanged chunks keep pointing at them.
 */
export function chunkId(sourceName: string, path: string, headingPath: string[], nth: number): string {
  return `kbc_${sha(JSON.stringify([sourceName, path, headingPath, nth])).slice(0, 24)}`;
}

export function documentId(sourceName: string, path: string): string {
  return `kbd_${sha(JSON.stringify([sourceName, path])).slice(0, 24)}`;
}

/** Chunk ids for a document's chunks: the nth chunk under each heading path, counted from 0. */
export function chunkIds(sourceName: string, path: string, chunks: DocumentChunk[]): string[] {
  const seen = new Map<string, number>();
  return chunks.map((c) => {
    const key = JSON.stringify(c.headingPath);
    const nth = seen.get(key) ?? 0;
    seen.set(key, nth + 1);
    return chunkId(sourceName, path, c.headingPath, nth);
  });
}
