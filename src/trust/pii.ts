import { findNumbers, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';
import { cardSchemeOf, IBAN_LENGTHS, ibanValid, luhnValid, ninoPrefixValid, ssnValid, tfnValid } from './checksums.ts';

/**
 * Personal data in free text: what it is, where it is, and the text with typed placeholders in its place, so
 * that text can leave for a model and the answer be put back together.
 *
 * Offsets are into the input string, in UTF-16 code units (JavaScript string indices): `input.slice(start, end)`
 * is the entity.
 */

export const PII_TYPES = ['email', 'phone', 'card', 'iban', 'ssn', 'nino', 'tfn', 'address', 'name'] as const;
export type PiiType = (typeof PII_TYPES)[number];

export interface PiiEntity {
  type: PiiType;
  start: number;
  end: number;
}

export interface PiiOptions {
  /** Names known from the customer's profile, matched case-insensitively on word boundaries. */
  names?: readonly string[];
  /** Regions tried for numbers written without a country code, in order; default US, AU, GB. */
  regions?: readonly CountryCode[];
  /** Only these types (default: all). */
  types?: readonly PiiType[];
}

/** Default regions for phone numbers written without "+" and a country code. */
export const DEFAULT_PHONE_REGIONS: readonly CountryCode[] = ['US', 'AU', 'GB'];

/**
 * Which kind wins when two findings overlap: a lower tier wins whatever its length (a checksum or an "@" is
 * stronger evidence than a number that parses as a phone); within a tier the longer finding wins.
 */
const TIER: Record<PiiType, number> = { email: 0, iban: 0, card: 0, ssn: 1, nino: 1, tfn: 1, phone: 2, address: 3, name: 4 };

// ---------------------------------------------------------------------------------------------------- emails

// Local part: the dot-atom of RFC 5322 in its common form (letters, digits and . _ % + -), then a domain of
// dot-separated labels ending in a 2+ letter top-level label.
const EMAIL =
  /(?<![\w.%+-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])/g;

function findEmails(text: string, out: PiiEntity[]): void {
  for (const m of text.matchAll(EMAIL)) out.push({ type: 'email', start: m.index, end: m.index + m[0].length });
}

// ---------------------------------------------------------------------------------------------------- phones

// Dates (13.10.2024, 2024-03-15), amounts (1631.19) and IPv4 addresses that a phone parser can read as a number.
const DATE_LIKE = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$/;
const AMOUNT_LIKE = /^\d{1,7}(?:[.,]\d{3})*[.,]\d{1,2}$/;
const CURRENCY_BEFORE = /(?:[$€£¥]|\b(?:AUD|USD|GBP|EUR|NZD|CAD|dollars?|amount|total)\b)\s*$/i;
// Digits written in groups as phone numbers are: "0412 345 678", "(02) 9374 4000", "212-736-5000".
const GROUPED = /^\(?\d+\)?(?:[ -]{1,2}\(?\d+\)?)+$/;
const IPV4_LIKE = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * Phone numbers, found by libphonenumber-js for each default region. A number the library's metadata calls valid
 * is kept; one it calls only possible (the right length, a range it does not know as allocated) is kept when it
 * is written in international form, or in phone-style groups with at least 10 digits.
 */
function findPhones(text: string, regions: readonly CountryCode[], out: PiiEntity[]): void {
  // "+61 (0)412 …", "+44 (0)20 …": the national trunk prefix in brackets inside an international number; blanked
  // (same length, so offsets hold) because the parser reads it as part of the number.
  // Bracketed markers with fewer than three digits ("[1]", "[C]", "[EMAIL_1]": citations and placeholders) are
  // blanked too: the parser reads "[" as phone punctuation and drops the whole number it was next to.
  const scan = text
    .replace(/(?<=\+\d{1,3}\s?)\(0\)/g, '   ')
    .replace(/\[[^\]\n]{0,24}\]/g, (m) => ((m.match(/\d/g)?.length ?? 0) < 3 ? ' '.repeat(m.length) : m));
  // The parser can join two numbers across ", " ("+1 212 736 5000, 020 …"), so each stretch between commas and
  // semicolons is read on its own; a stretch without three digits holds no phone number.
  for (const m of scan.matchAll(/[^,;]+/g)) {
    if (!/\d\D*\d\D*\d/.test(m[0])) continue;
    for (const region of regions) scanPhones(text, m[0], m.index, region, out);
  }
}

type Found = { startsAt: number; endsAt: number; number: PhoneNumber };

/** The phone numbers in `part`, the stretch of the text that starts at `from`. */
function scanPhones(text: string, part: string, from: number, region: CountryCode, out: PiiEntity[]): void {
  const options = { defaultCountry: region, v2: true, leniency: 'POSSIBLE' } as Parameters<typeof findNumbers>[1];
  for (const found of findNumbers(part, options) as unknown as Found[]) {
    const start = from + found.startsAt;
    const end = from + found.endsAt;
    const surface = text.slice(start, end);
    // A number glued to letters or to "-"/"/" (a code, a date part) is not a phone number here.
    const before = text[start - 1] ?? ' ';
    const after = text[end] ?? ' ';
    if (/[\w/]/.test(before) || /[\w/]/.test(after)) continue;
    if (before === '-' || (after === '-' && /\d/.test(text[end + 1] ?? ''))) continue;
    if (DATE_LIKE.test(surface) || AMOUNT_LIKE.test(surface) || IPV4_LIKE.test(surface)) continue;
    if (CURRENCY_BEFORE.test(text.slice(Math.max(0, start - 12), start))) continue;
    const digitCount = surface.replace(/\D/g, '').replace(/^(?:00|011)/, '').length;
    // E.164 allows at most 15 digits with the country code.
    if (digitCount > 15) continue;
    if (!found.number.isValid()) {
      // National forms carry a trunk prefix or an area code: 10 digits or more in the regions tried.
      if (!(surface.startsWith('+') || (digitCount >= 10 && GROUPED.test(surface)))) continue;
    }
    out.push({ type: 'phone', start, end });
  }
}

// ---------------------------------------------------------------------------------------------------- cards

// Runs of digit groups joined by one space or one dash, not glued to letters, digits or a dash on either side.
const DIGIT_RUN = /(?<![\w.+-])\d+(?:[ -]\d+)*(?![\w-]|\.\d)/g;

interface Group {
  start: number;
  end: number;
  sep: string;
}

function groupsOf(run: string, offset: number): Group[] {
  const groups: Group[] = [];
  for (const m of run.matchAll(/\d+/g)) {
    groups.push({ start: offset + m.index, end: offset + m.index + m[0].length, sep: m.index > 0 ? run[m.index - 1]! : '' });
  }
  return groups;
}

/** Groupings card numbers are printed in: fours (the last group shorter), and 4-6-5 or 4-6-4. */
function cardGrouping(lengths: number[]): boolean {
  if (lengths.length === 1) return true;
  const key = lengths.join('-');
  if (key === '4-6-5' || key === '4-6-4') return true;
  return lengths.slice(0, -1).every((l) => l === 4) && lengths[lengths.length - 1]! <= 4;
}

/**
 * 13 to 19 digits, written whole or in groups with one kind of separator, Luhn-valid, of a known scheme. A card
 * number inside a longer run of groups counts only when spaces separate them and it is grouped as cards are
 * ("4111 1111 1111 1111 12 months"); a dashed run is one code, taken whole or not at all.
 */
function findCards(text: string, out: PiiEntity[]): void {
  for (const m of text.matchAll(DIGIT_RUN)) {
    const groups = groupsOf(m[0], m.index);
    const dashed = m[0].includes('-');
    for (let i = 0; i < groups.length;) {
      // The longest card number starting at group i; at most 19 digits, so only a few groups are looked at.
      let found = -1;
      let digits = '';
      for (let j = i; j < groups.length; j++) {
        digits += text.slice(groups[j]!.start, groups[j]!.end);
        if (digits.length > 19) break;
        // One separator throughout the card number (spaces or dashes, not both).
        if (j > i + 1 && groups[j]!.sep !== groups[i + 1]!.sep) break;
        const whole = i === 0 && j === groups.length - 1;
        if (!whole && dashed) continue;
        if (digits.length < 13) continue;
        if (!whole && !cardGrouping(groups.slice(i, j + 1).map((g) => g.end - g.start))) continue;
        if (luhnValid(digits) && cardSchemeOf(digits)) found = j;
      }
      if (found >= 0) {
        out.push({ type: 'card', start: groups[i]!.start, end: groups[found]!.end });
        i = found + 1;
      } else i++;
    }
  }
}

// ---------------------------------------------------------------------------------------------------- IBANs

const IBAN_START = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ ]?[A-Za-z0-9])/g;

/** A country code, two check digits and the country's number of characters, written whole or in spaced groups. */
function findIbans(text: string, out: PiiEntity[]): void {
  for (const m of text.matchAll(IBAN_START)) {
    const country = m[0].slice(0, 2).toUpperCase();
    const length = IBAN_LENGTHS[country];
    if (!length) continue;
    let chars = m[0].toUpperCase();
    let i = m.index + 4;
    while (chars.length < length && i < text.length) {
      const ch = text[i]!;
      if (/[A-Za-z0-9]/.test(ch)) chars += ch.toUpperCase();
      else if (ch === ' ' && /[A-Za-z0-9]/.test(text[i + 1] ?? '') && /[A-Za-z0-9]/.test(text[i - 1] ?? '')) {
        /* a single space between groups */
      } else break;
      i++;
    }
    if (chars.length !== length || /[A-Za-z0-9]/.test(text[i] ?? '')) continue;
    if (ibanValid(chars)) out.push({ type: 'iban', start: m.index, end: i });
  }
}

// ---------------------------------------------------------------------------------------------------- national ids

const SSN = /(?<![\w-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\w-])/g;
const SSN_KEYWORD = /\b(?:SSN|social security(?: number| no\.?)?)\s*(?:#|no\.?|number)?\s*[:#]?\s*(\d{9})(?!\w)/gi;
const NINO = /(?<![\w])([A-Za-z]{2}) ?(\d{2}) ?(\d{2}) ?(\d{2}) ?([A-Da-d])(?!\w)/g;
const TFN = /(?<![\w-])(\d{3})([ -])(\d{3})\2(\d{3})(?![\w-])/g;
const TFN_KEYWORD = /\b(?:TFN|tax file number)\s*(?:#|no\.?|number)?\s*[:#]?\s*(\d{8,9})(?!\w)/gi;

// Digits right after a country code or an area code in brackets are the rest of a phone number.
const PHONE_BEFORE = /(?:\+\d{1,3}|\(\d{1,4}\))[ .-]?$/;
const afterPhonePrefix = (text: string, at: number) => PHONE_BEFORE.test(text.slice(Math.max(0, at - 8), at));

function findNationalIds(text: string, types: ReadonlySet<PiiType>, out: PiiEntity[]): void {
  if (types.has('ssn')) {
    for (const m of text.matchAll(SSN)) {
      if (ssnValid(m[1]!, m[3]!, m[4]!) && !afterPhonePrefix(text, m.index))
        out.push({ type: 'ssn', start: m.index, end: m.index + m[0].length });
    }
    for (const m of text.matchAll(SSN_KEYWORD)) {
      const d = m[1]!;
      const at = m.index + m[0].length - d.length;
      if (ssnValid(d.slice(0, 3), d.slice(3, 5), d.slice(5))) out.push({ type: 'ssn', start: at, end: at + d.length });
    }
  }
  if (types.has('nino')) {
    for (const m of text.matchAll(NINO)) {
      // Letters in upper case as written on the card, or all in lower case; a mixed-case word is something else.
      const letters = m[1]! + m[5]!;
      if (letters !== letters.toUpperCase() && letters !== letters.toLowerCase()) continue;
      if (ninoPrefixValid(m[1]!.toUpperCase())) out.push({ type: 'nino', start: m.index, end: m.index + m[0].length });
    }
  }
  if (types.has('tfn')) {
    for (const m of text.matchAll(TFN)) {
      if (tfnValid(m[1]! + m[3]! + m[4]!) && !afterPhonePrefix(text, m.index))
        out.push({ type: 'tfn', start: m.index, end: m.index + m[0].length });
    }
    for (const m of text.matchAll(TFN_KEYWORD)) {
      const d = m[1]!;
      const at = m.index + m[0].length - d.length;
      if (d.length === 8 || tfnValid(d)) out.push({ type: 'tfn', start: at, end: at + d.length });
    }
  }
}

// ---------------------------------------------------------------------------------------------------- addresses

const STREET_SUFFIXES = [
  'Street', 'St', 'Road', 'Rd', 'Avenue', 'Ave', 'Av', 'Boulevard', 'Blvd', 'Lane', 'Ln', 'Drive', 'Dr', 'Court', 'Ct',
  'Place', 'Pl', 'Terrace', 'Tce', 'Way', 'Crescent', 'Cres', 'Parade', 'Pde', 'Highway', 'Hwy', 'Close', 'Square',
  'Sq', 'Circuit', 'Cct', 'Grove', 'Gr', 'Parkway', 'Pkwy', 'Esplanade', 'Esp', 'Row', 'Mews', 'Gardens', 'Gdns',
]; // prettier-ignore
const WORD = "[A-Z][A-Za-z'’-]+";
const UNIT = String.raw`(?:(?:Unit|Apt\.?|Apartment|Flat|Suite|Level|Shop)\s+\d{1,4}[A-Za-z]?,?\s+)?`;
const NUMBER = String.raw`\d{1,5}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?`;
const SUFFIX = `(?:${STREET_SUFFIXES.join('|')})\\b(?:\\.(?=,))?`;
const DIRECTION = String.raw`(?:\s+(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\b)?`;
// A locality after the street: ", Town" (one to three capitalised words), then an optional state or county
// abbreviation and a postcode: "Springfield NSW 2000", "Austin, TX 78701", "London SW1A 1AA".
const STATE = String.raw`(?:[A-Z]{2,3})`;
const POSTCODE = String.raw`(?:\d{4,5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})`;
const LOCALITY = `(?:,?\\s+(?:${WORD}\\s+){0,2}${WORD}(?:,?\\s+${STATE})?(?:,?\\s+${POSTCODE})(?![\\w-]))?`;
const ADDRESS = new RegExp(
  `(?<![\\w/-])${UNIT}${NUMBER}\\s+(?:${WORD}\\s+){1,3}${SUFFIX}${DIRECTION}${LOCALITY}` +
    String.raw`|(?<!\w)(?:P\.?\s?O\.?\s+Box|GPO\s+Box|Post Office Box)\s+\d{1,6}(?!\w)` +
    `${LOCALITY}`,
  'g',
);

function findAddresses(text: string, out: PiiEntity[]): void {
  for (const m of text.matchAll(ADDRESS)) out.push({ type: 'address', start: m.index, end: m.index + m[0].length });
}

// ---------------------------------------------------------------------------------------------------- names

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function findNames(text: string, names: readonly string[], out: PiiEntity[]): void {
  const wanted = [...new Set(names.map((n) => n.trim().replace(/\s+/g, ' ')).filter((n) => n.length >= 2))];
  if (!wanted.length) return;
  // Longest first, so "Mary Ann Smith" is one finding rather than "Mary Ann" and "Smith"; any run of spaces
  // between a name's words matches.
  wanted.sort((a, b) => b.length - a.length);
  const alternatives = wanted.map((n) => n.split(' ').map(escapeRegExp).join('\\s+'));
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}_])`, 'giu');
  for (const m of text.matchAll(re)) out.push({ type: 'name', start: m.index, end: m.index + m[0].length });
}

// ---------------------------------------------------------------------------------------------------- all together

/** Every finding in `text`, overlapping ones resolved: the stronger tier wins, then the longer, then the earlier. */
export function findPii(text: string, opts: PiiOptions = {}): PiiEntity[] {
  const types = new Set<PiiType>(opts.types ?? PII_TYPES);
  const found: PiiEntity[] = [];
  if (types.has('email')) findEmails(text, found);
  if (types.has('iban')) findIbans(text, found);
  if (types.has('card')) findCards(text, found);
  findNationalIds(text, types, found);
  if (types.has('phone')) findPhones(text, opts.regions ?? DEFAULT_PHONE_REGIONS, found);
  if (types.has('address')) findAddresses(text, found);
  if (types.has('name') && opts.names?.length) findNames(text, opts.names, found);
  return resolveOverlaps(found);
}

/** Keeps non-overlapping findings: lower tier first, then longer, then earlier; sorted by position. */
export function resolveOverlaps(found: readonly PiiEntity[]): PiiEntity[] {
  const ranked = [...found].sort((a, b) => TIER[a.type] - TIER[b.type] || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: PiiEntity[] = [];
  for (const e of ranked) {
    if (e.end <= e.start) continue;
    if (kept.some((k) => e.start < k.end && k.start < e.end)) continue;
    kept.push(e);
  }
  return kept.sort((a, b) => a.start - b.start);
}

// ---------------------------------------------------------------------------------------------------- masking

/** Placeholder → the text it stands for, as found in the input. */
export type RestoreMap = Record<string, string>;

export interface MaskResult {
  text: string;
  entities: PiiEntity[];
  restore: RestoreMap;
}

/** The value a placeholder stands for, so one person's email written twice (or in another case) gets one placeholder. */
function identityOf(type: PiiType, surface: string): string {
  switch (type) {
    case 'email':
    case 'name':
    case 'address':
      return surface.toLowerCase().replace(/\s+/g, ' ');
    case 'iban':
    case 'nino':
      return surface.toUpperCase().replace(/\s+/g, '');
    case 'phone': {
      const digits = surface.replace(/\D/g, '');
      return digits.replace(/^0+/, '').slice(-9);
    }
    default:
      return surface.replace(/\D/g, '');
  }
}

/**
 * Replaces each finding with a typed placeholder (`[EMAIL_1]`, `[PHONE_2]`, …), the same one for the same value
 * within the call, and returns the map that puts them back.
 */
export function maskPii(text: string, opts: PiiOptions = {}): MaskResult {
  const entities = findPii(text, opts);
  const restore: RestoreMap = {};
  const assigned = new Map<string, string>();
  const counts = new Map<PiiType, number>();
  let out = '';
  let at = 0;
  for (const e of entities) {
    const surface = text.slice(e.start, e.end);
    const key = `${e.type}\u0000${identityOf(e.type, surface)}`;
    let placeholder = assigned.get(key);
    if (!placeholder) {
      const n = (counts.get(e.type) ?? 0) + 1;
      counts.set(e.type, n);
      placeholder = `[${e.type.toUpperCase()}_${n}]`;
      assigned.set(key, placeholder);
      restore[placeholder] = surface;
    }
    out += text.slice(at, e.start) + placeholder;
    at = e.end;
  }
  return { text: out + text.slice(at), entities, restore };
}

const PLACEHOLDER = new RegExp(`\\[(?:${PII_TYPES.map((t) => t.toUpperCase()).join('|')})_\\d+\\]`, 'g');

/** Puts the masked values back into a model's answer; placeholders not in the map stay as they are. */
export function unmaskPii(text: string, restore: RestoreMap): string {
  return text.replace(PLACEHOLDER, (p) => (Object.hasOwn(restore, p) ? restore[p]! : p));
}

/**
 * Redaction for log lines: emails, payment cards, IBANs and the national ids, each replaced by its type in
 * brackets (`[EMAIL]`). No phone lookup (log lines are many and the phone finder is the slowest part), no
 * restore map. A string with no "@" and no run of digits skips the search.
 */
export function redactForLog(text: string): string {
  if (!/@|\d{2}/.test(text)) return text;
  const entities = findPii(text, { types: ['email', 'card', 'iban', 'ssn', 'nino', 'tfn'] });
  if (!entities.length) return text;
  let out = '';
  let at = 0;
  for (const e of entities) {
    out += `${text.slice(at, e.start)}[${e.type.toUpperCase()}]`;
    at = e.end;
  }
  return out + text.slice(at);
}
