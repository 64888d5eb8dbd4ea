import { describe, expect, it } from 'vitest';
import { generatePeople, NICKNAMES } from '../src/sense/identity/index.ts';
import type { PersonField, PersonRecord } from '../src/sense/identity/types.ts';

const FIELDS: PersonField[] = [
  'givenName',
  'surname',
  'dateOfBirth',
  'streetNumber',
  'address1',
  'address2',
  'suburb',
  'postcode',
  'state',
  'email',
  'phone',
  'nationalId',
];
const ID = /^rec-(\d+)-(org|dup-(\d+))$/;
const STATES = new Set(['nsw', 'vic', 'qld', 'wa', 'sa', 'tas', 'act', 'nt']);

/** The original of each duplicate, by the ids. */
function pairs(records: PersonRecord[]): [PersonRecord, PersonRecord][] {
  const byId = new Map(records.map((r) => [r.id, r]));
  const out: [PersonRecord, PersonRecord][] = [];
  for (const r of records) {
    const m = r.id.match(ID)!;
    if (m[2] !== 'org') out.push([byId.get(`rec-${m[1]}-org`)!, r]);
  }
  return out;
}

function validDate(s: string): boolean {
  const y = Number(s.slice(0, 4)),
    m = Number(s.slice(4, 6)),
    d = Number(s.slice(6, 8));
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

describe('synthetic people', () => {
  const { records, entityOf } = generatePeople({ records: 20_000, seed: 7 });

  it('is fixed by the seed: the same seed gives the same records in the same order, another seed others', () => {
    const again = generatePeople({ records: 20_000, seed: 7 });
    expect(again.records).toEqual(records);
    expect([...again.entityOf]).toEqual([...entityOf]);
    const other = generatePeople({ records: 20_000, seed: 8 });
    expect(other.records.map((r) => r.id)).not.toEqual(records.map((r) => r.id));
    const byId = new Map(other.records.map((r) => [r.id, r]));
    const sameFields = records.filter((r) => JSON.stringify(byId.get(r.id)?.fields) === JSON.stringify(r.fields)).length;
    expect(sameFields).toBeLessThan(records.length / 100);
  });

  it('makes exactly the number of records asked for, for small and odd sizes too', () => {
    expect(records).toHaveLength(20_000);
    for (const n of [0, 1, 2, 3, 7, 101, 999]) {
      const out = generatePeople({ records: n, seed: 1 });
      expect(out.records, `records: ${n}`).toHaveLength(n);
      expect(out.entityOf.size).toBe(n);
      expect(new Set(out.records.map((r) => r.id)).size).toBe(n);
    }
  });

  it('makes about duplicateShare of the records duplicates, each person having at most maxDuplicatesPerPerson', () => {
    for (const [share, max] of [
      [0.3, 3],
      [0.1, 3],
      [0.5, 2],
      [0.2, 1],
      [0, 3],
    ] as const) {
      const out = generatePeople({ records: 10_000, seed: 3, duplicateShare: share, maxDuplicatesPerPerson: max });
      const dups = out.records.filter((r) => r.id.includes('-dup-')).length;
      expect(Math.abs(dups / 10_000 - share), `share ${share}`).toBeLessThan(0.01);
      const perPerson = new Map<string, number>();
      for (const r of out.records)
        if (r.id.includes('-dup-')) perPerson.set(out.entityOf.get(r.id)!, (perPerson.get(out.entityOf.get(r.id)!) ?? 0) + 1);
      expect(Math.max(0, ...perPerson.values())).toBeLessThanOrEqual(max);
    }
    // Most duplicated people have one duplicate, fewer have two, fewer still three.
    const counts = [0, 0, 0, 0];
    const perPerson = new Map<string, number>();
    for (const r of records) if (r.id.includes('-dup-')) perPerson.set(entityOf.get(r.id)!, (perPerson.get(entityOf.get(r.id)!) ?? 0) + 1);
    for (const c of perPerson.values()) counts[c]!++;
    expect(counts[1]).toBeGreaterThan(counts[2]!);
    expect(counts[2]).toBeGreaterThan(counts[3]!);
    expect(counts[3]).toBeGreaterThan(0);
  });

  it('refuses a share the people cannot carry, and bad options', () => {
    expect(() => generatePeople({ records: 100, seed: 1, duplicateShare: 0.6, maxDuplicatesPerPerson: 1 })).toThrow(RangeError);
    expect(() => generatePeople({ records: 100, seed: 1, duplicateShare: 1 })).toThrow(RangeError);
    expect(() => generatePeople({ records: -1, seed: 1 })).toThrow(RangeError);
    expect(() => generatePeople({ records: 1.5, seed: 1 })).toThrow(RangeError);
    expect(generatePeople({ records: 100, seed: 1, duplicateShare: 0.5, maxDuplicatesPerPerson: 1 }).records).toHaveLength(100);
  });

  it('names records as FEBRL does, and entityOf groups each original with its duplicates', () => {
    const groups = new Map<string, string[]>();
    const bad: string[] = [];
    for (const r of records) {
      const m = r.id.match(ID);
      if (!m || r.source !== 0 || entityOf.get(r.id) !== m[1]) {
        bad.push(`${r.id} (source ${r.source}, entity ${entityOf.get(r.id)})`);
        continue;
      }
      (groups.get(m[1]!) ?? groups.set(m[1]!, []).get(m[1]!)!).push(m[2]!);
    }
    expect(bad).toEqual([]);
    expect(entityOf.size).toBe(records.length);
    for (const [entity, kinds] of groups) {
      // one original, and duplicates numbered 0, 1, … without gaps
      const dups = kinds
        .filter((k) => k !== 'org')
        .map((k) => Number(k.slice(4)))
        .sort((a, b) => a - b);
      if (kinds.length - dups.length !== 1 || dups.some((k, i) => k !== i)) bad.push(`${entity}: ${kinds.join(' ')}`);
    }
    expect(bad).toEqual([]);
    // people are numbered 0 … n-1
    const people = [...groups.keys()].map(Number).sort((a, b) => a - b);
    expect(people[0]).toBe(0);
    expect(people.at(-1)).toBe(people.length - 1);
    // the order is shuffled: duplicates do not sit next to their originals
    const firstHundred = records.slice(0, 100).map((r) => r.id);
    expect(firstHundred.filter((id) => id.endsWith('-org')).length).toBeGreaterThan(50);
    expect(firstHundred.filter((id, i) => i > 0 && entityOf.get(id) === entityOf.get(firstHundred[i - 1]!)).length).toBeLessThan(5);
  });

  it('keeps every value lowercase and normalized', () => {
    const text = /^[a-z0-9'-]+( [a-z0-9'-]+)*$/;
    const formats: Record<PersonField, RegExp> = {
      givenName: text,
      surname: text,
      address1: text,
      address2: text,
      suburb: text,
      state: text,
      dateOfBirth: /^\d{8}$/,
      streetNumber: /^[1-9]\d*$/,
      postcode: /^\d{4}$/,
      email: /^[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+$/,
      phone: /^04\d{8}$/,
      nationalId: /^\d{7}$/,
    };
    // Checked in plain loops (an expect per value is slow): every offending value is listed.
    const bad: string[] = [];
    let values = 0;
    for (const r of records) {
      for (const [field, value] of Object.entries(r.fields) as [PersonField, unknown][]) {
        values++;
        const ok =
          FIELDS.includes(field) &&
          typeof value === 'string' &&
          formats[field].test(value) &&
          value === value.trim().toLowerCase().replace(/\s+/g, ' ');
        if (!ok) bad.push(`${r.id} ${field}=${JSON.stringify(value)}`);
      }
    }
    expect(bad).toEqual([]);
    expect(values).toBeGreaterThan(records.length * 9);
  });

  it('gives each person their own email, phone and national id: no two originals share one', () => {
    const originals = records.filter((r) => r.id.endsWith('-org'));
    for (const field of ['email', 'phone', 'nationalId'] as const) {
      const values = originals.map((r) => r.fields[field]).filter((v): v is string => v !== undefined);
      expect(values.length, field).toBeGreaterThan(originals.length * 0.8);
      expect(new Set(values).size, field).toBe(values.length);
    }
  });

  it('gives every original a full identity: a valid date of birth in 1930–2005, an Australian state and the core fields', () => {
    const originals = records.filter((r) => r.id.endsWith('-org'));
    expect(originals).toHaveLength(14_000);
    const bad: string[] = [];
    for (const { id, fields } of originals) {
      for (const f of ['givenName', 'surname', 'dateOfBirth', 'address1', 'suburb', 'postcode', 'state', 'nationalId'] as const)
        if (fields[f] === undefined) bad.push(`${id} has no ${f}`);
      const dob = fields.dateOfBirth ?? '';
      const year = Number(dob.slice(0, 4));
      if (!validDate(dob) || year < 1930 || year > 2005) bad.push(`${id} dateOfBirth=${dob}`);
      if (!STATES.has(fields.state ?? '')) bad.push(`${id} state=${fields.state}`);
    }
    expect(bad).toEqual([]);
    // Values repeat the way real ones do: common names are common, but there is plenty of variety.
    const surnames = new Map<string, number>();
    for (const { fields } of originals) surnames.set(fields.surname!, (surnames.get(fields.surname!) ?? 0) + 1);
    expect(surnames.size).toBeGreaterThan(300);
    expect(Math.max(...surnames.values()) / originals.length).toBeLessThan(0.05);
    // The optional fields are mostly there.
    for (const f of ['email', 'phone', 'streetNumber'] as const)
      expect(originals.filter((r) => r.fields[f]).length / originals.length, f).toBeGreaterThan(0.75);
    // A suburb comes with the same state every time, and mostly with one postcode.
    const statesOf = new Map<string, Set<string>>();
    const postcodesOf = new Map<string, Map<string, number>>();
    for (const { fields } of originals) {
      (statesOf.get(fields.suburb!) ?? statesOf.set(fields.suburb!, new Set()).get(fields.suburb!)!).add(fields.state!);
      const postcodes = postcodesOf.get(fields.suburb!) ?? postcodesOf.set(fields.suburb!, new Map()).get(fields.suburb!)!;
      postcodes.set(fields.postcode!, (postcodes.get(fields.postcode!) ?? 0) + 1);
    }
    expect([...statesOf].filter(([, states]) => states.size > 1)).toEqual([]);
    let usual = 0;
    for (const postcodes of postcodesOf.values()) usual += Math.max(...postcodes.values());
    expect(usual / originals.length).toBeGreaterThan(0.6);
  });

  it('makes each duplicate differ from its original but keep most of it (at least 5 of the original’s fields)', () => {
    const all = pairs(records);
    expect(all.length).toBe(6_000);
    let keptTotal = 0;
    const bad: string[] = [];
    for (const [org, dup] of all) {
      const changed = FIELDS.filter((f) => org.fields[f] !== dup.fields[f]).length;
      const kept = FIELDS.filter((f) => org.fields[f] !== undefined && org.fields[f] === dup.fields[f]).length;
      if (changed === 0) bad.push(`${dup.id} is the same as its original`);
      if (kept < 5) bad.push(`${dup.id} keeps only ${kept} fields`);
      keptTotal += kept;
    }
    expect(bad).toEqual([]);
    expect(keptTotal / all.length).toBeGreaterThan(8);
  });

  it('corrupts in the ways FEBRL does: typos, nicknames, missing values, swapped names, slipped dates, moves, digit changes', () => {
    const seen = {
      typo: 0,
      nickname: 0,
      missing: 0,
      swap: 0,
      dayMonth: 0,
      dateDigit: 0,
      moved: 0,
      postcodeDigit: 0,
      nationalIdDigit: 0,
      streetNumber: 0,
    };
    const oneDigit = (a: string, b: string) => a.length === b.length && [...a].filter((c, i) => c !== b[i]).length === 1;
    // A letter inserted, deleted or replaced, or two neighbours swapped.
    const oneSlip = (a: string, b: string) => {
      if (a.length === b.length) return [...a].filter((c, i) => c !== b[i]).length <= 2;
      const [long, short] = a.length > b.length ? [a, b] : [b, a];
      if (long.length !== short.length + 1) return false;
      for (let i = 0; i < long.length; i++) if (long.slice(0, i) + long.slice(i + 1) === short) return true;
      return false;
    };
    const nicknameOf = (a: string, b: string) => NICKNAMES[a]?.includes(b) || NICKNAMES[b]?.includes(a);
    for (const [{ fields: o }, { fields: d }] of pairs(records)) {
      if (FIELDS.some((f) => o[f] !== undefined && d[f] === undefined)) seen.missing++;
      if (o.givenName !== o.surname && d.givenName === o.surname && d.surname === o.givenName) seen.swap++;
      if (o.givenName && d.givenName && nicknameOf(o.givenName, d.givenName)) seen.nickname++;
      for (const f of ['givenName', 'surname', 'address1', 'suburb'] as const) {
        const a = o[f],
          b = d[f];
        if (a && b && a !== b && oneSlip(a, b)) seen.typo++;
      }
      if (o.dateOfBirth && d.dateOfBirth && o.dateOfBirth !== d.dateOfBirth) {
        if (d.dateOfBirth === o.dateOfBirth.slice(0, 4) + o.dateOfBirth.slice(6, 8) + o.dateOfBirth.slice(4, 6)) seen.dayMonth++;
        else if (oneDigit(o.dateOfBirth, d.dateOfBirth)) seen.dateDigit++;
      }
      if (o.suburb && d.suburb && o.address1 !== d.address1 && o.suburb !== d.suburb && d.state === o.state) seen.moved++;
      if (o.postcode && d.postcode && oneDigit(o.postcode, d.postcode) && o.suburb === d.suburb) seen.postcodeDigit++;
      if (o.nationalId && d.nationalId && oneDigit(o.nationalId, d.nationalId)) seen.nationalIdDigit++;
      if (o.streetNumber && d.streetNumber && o.streetNumber !== d.streetNumber && o.address1 === d.address1) seen.streetNumber++;
    }
    for (const [kind, n] of Object.entries(seen)) expect(n, kind).toBeGreaterThan(50);
    // A duplicate's nickname is one the map knows, and the map is usable both ways by a matcher.
    for (const [name, short] of Object.entries(NICKNAMES)) {
      expect(name).toMatch(/^[a-z]+$/);
      for (const s of short) expect(s).toMatch(/^[a-z]+$/);
    }
    expect(NICKNAMES.william).toContain('bill');
    expect(NICKNAMES.elizabeth).toContain('liz');
  });
});
