import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  compareDates,
  febrlTruth,
  jaroWinkler,
  pairwiseScores,
  readPeopleCsv,
  resolvePeople,
  soundex,
  withinOneEdit,
  type PersonRecord,
} from '../src/sense/identity/index.ts';
import { cliEnv, runAcs } from './cli-helpers.ts';

const FEBRL = (name: string) => fileURLToPath(new URL(`../data/febrl/${name}.csv`, import.meta.url));

describe('comparators', () => {
  it('Jaro–Winkler gives the values published with it (Winkler 1990: martha/marhta, dwayne/duane, dixon/dicksonx)', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('dwayne', 'duane')).toBeCloseTo(0.84, 2);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.813, 3);
    expect(jaroWinkler('same', 'same')).toBe(1);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
  });

  it('one edit: a substitution, insertion, deletion or swap of neighbours, and no more', () => {
    for (const [a, b] of [
      ['4011', '4012'],
      ['4011', '401'],
      ['4011', '40111'],
      ['4011', '4101'],
      ['x', 'x'],
    ])
      expect(withinOneEdit(a!, b!), `${a} ${b}`).toBe(true);
    for (const [a, b] of [
      ['4011', '4122'],
      ['4011', '40'],
      ['abcd', 'badc'],
    ])
      expect(withinOneEdit(a!, b!), `${a} ${b}`).toBe(false);
  });

  it('Soundex codes names by sound (the standard examples: Robert, Rupert, Rubin, Ashcraft, Tymczak, Pfister)', () => {
    expect(['robert', 'rupert', 'rubin', 'ashcraft', 'tymczak', 'pfister'].map(soundex)).toEqual([
      'R163',
      'R163',
      'R150',
      'A261',
      'T522',
      'P236',
    ]);
  });

  it('dates: exact, day and month swapped or one digit slipped, same year and month, different', () => {
    expect(compareDates('19810403', '19810403')).toBe(3);
    expect(compareDates('19810403', '19810304')).toBe(2);
    expect(compareDates('19810403', '19810408')).toBe(2);
    expect(compareDates('19810403', '19180403')).toBe(2);
    expect(compareDates('19810403', '19810427')).toBe(1);
    expect(compareDates('19810403', '19650911')).toBe(0);
  });
});

describe('Fellegi–Sunter resolution on FEBRL, one configuration, no labels', () => {
  // Targets from the issue; the truth comes from FEBRL's record ids, which the resolver never sees.
  for (const [name, target] of [
    ['dataset1', 0.99],
    ['dataset2', 0.97],
    ['dataset3', 0.95],
  ] as const) {
    it(`${name}: pairwise F1 ≥ ${target}`, () => {
      const { records } = readPeopleCsv(FEBRL(name));
      const result = resolvePeople(records);
      const scores = pairwiseScores(records, result.entityOf, febrlTruth(records)!);
      expect(scores.f1).toBeGreaterThanOrEqual(target);
      expect(scores.precision).toBeGreaterThan(0.95);
      // Blocking keeps the comparisons to a small multiple of the true pairs, far from all n(n-1)/2.
      expect(result.pairsCompared).toBeLessThan(records.length * 5);
    });
  }

  it('links two files: only pairs across them are compared and matched', () => {
    const { records } = readPeopleCsv(FEBRL('dataset1'));
    // Originals in one file, their duplicates in the other.
    const two: PersonRecord[] = records.map((r) => ({ ...r, source: r.id.endsWith('-org') ? 0 : 1 }));
    const result = resolvePeople(two, { link: true });
    const truth = febrlTruth(two)!;
    const scores = pairwiseScores(two, result.entityOf, truth, true);
    expect(scores.actual).toBe(500);
    expect(scores.f1).toBeGreaterThanOrEqual(0.99);
    // No cluster holds two records of the same file.
    const perEntity = new Map<string, number[]>();
    for (const r of two)
      (perEntity.get(result.entityOf.get(r.id)!) ?? perEntity.set(result.entityOf.get(r.id)!, [0, 0]).get(result.entityOf.get(r.id)!)!)[
        r.source
      ]!++;
    for (const [a, b] of perEntity.values()) expect(Math.max(a!, b!)).toBeLessThanOrEqual(1);
  });

  it('a deterministic rule matches outright: the same email joins two records whose other fields disagree', () => {
    const { records } = readPeopleCsv(FEBRL('dataset1'));
    const extra: PersonRecord[] = [
      { id: 'x-1', source: 0, fields: { givenName: 'kim', surname: 'nguyen', email: 'kim@example.com', postcode: '2000' } },
      { id: 'x-2', source: 0, fields: { givenName: 'kimberly', surname: 'smith', email: 'kim@example.com', postcode: '3000' } },
    ];
    const result = resolvePeople([...records, ...extra]);
    expect(result.entityOf.get('x-1')).toBe(result.entityOf.get('x-2'));
    const none = resolvePeople([...records, ...extra], { rules: [] });
    expect(none.entityOf.get('x-1')).not.toBe(none.entityOf.get('x-2'));
  });

  it('resolves new records one at a time against the fitted index: duplicates join their person, strangers start their own', () => {
    const { records } = readPeopleCsv(FEBRL('dataset3'));
    const truth = febrlTruth(records)!;
    // Fit on the originals and first duplicates; the later duplicates arrive afterwards, one by one.
    const later = records.filter((r) => /-dup-[1-9]$/.test(r.id));
    const fitted = resolvePeople(records.filter((r) => !later.includes(r)));
    const entityOfPerson = new Map<string, string>();
    for (const [id, entity] of fitted.entityOf) if (id.endsWith('-org')) entityOfPerson.set(truth.get(id)!, entity);
    let right = 0;
    for (const r of later) {
      const found = fitted.index.resolve(r);
      expect(found.compared).toBeLessThan(200);
      if (!found.isNew && found.entityId === entityOfPerson.get(truth.get(r.id)!)) right++;
    }
    expect(later.length).toBeGreaterThan(500);
    expect(right / later.length).toBeGreaterThanOrEqual(0.95);
    const stranger = fitted.index.resolve({
      id: 'new-1',
      source: 0,
      fields: { givenName: 'zebedee', surname: 'quattlebaum', dateOfBirth: '19770707', postcode: '9999' },
    });
    expect(stranger).toMatchObject({ isNew: true, entityId: 'new-1' });
    // Once added, the next record of that person finds it.
    const again = fitted.index.resolve({
      id: 'new-2',
      source: 0,
      fields: { givenName: 'zebedee', surname: 'quattlebaum', dateOfBirth: '19770707', postcode: '9999' },
    });
    expect(again).toMatchObject({ isNew: false, entityId: 'new-1' });
  });

  it('EM learns that agreement is likelier among matches than among non-matches, field by field', () => {
    const { records } = readPeopleCsv(FEBRL('dataset2'));
    const result = resolvePeople(records);
    // FEBRL has no email or phone, so EM has nothing to learn about those two.
    for (const p of result.parameters.filter((x) => x.field !== 'email' && x.field !== 'phone')) {
      const exact = p.levels.length - 1;
      expect(p.m[exact]!, p.field).toBeGreaterThan(p.u[exact]!);
      expect(p.m[0]!, p.field).toBeLessThan(p.u[0]!);
    }
  });
});

describe('acs identity resolve', () => {
  it('detects FEBRL columns, writes record_id,entity_id, and scores itself against the FEBRL ids', async () => {
    const env = await cliEnv();
    const out = join(env.dataDir, 'clusters.csv');
    const run = await runAcs(['identity', 'resolve', FEBRL('dataset1'), '--out', out, '--json'], env.env);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.files[0].columns).toMatchObject({
      given_name: 'givenName',
      surname: 'surname',
      date_of_birth: 'dateOfBirth',
      postcode: 'postcode',
      soc_sec_id: 'nationalId',
      suburb: 'suburb',
    });
    expect(summary.files[0].idColumn).toBe('rec_id');
    expect(summary.pairwise.f1).toBeGreaterThanOrEqual(0.99);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('record_id,entity_id');
    expect(lines).toHaveLength(1001);
    const text = await runAcs(['identity', 'resolve', FEBRL('dataset1'), '--out', out], env.env);
    expect(text.stdout).toMatch(/pairwise \(truth from FEBRL record ids\): precision [\d.]+, recall [\d.]+, F1 0\.99/);
    await env.cleanup();
  });

  it('takes any header through --map, scores against --truth, and names what is wrong', async () => {
    const env = await cliEnv();
    const dir = mkdtempSync(join(tmpdir(), 'acs-people-'));
    const file = join(dir, 'people.csv');
    writeFileSync(
      file,
      [
        'person,Vorname,Nachname,Geburtstag,who',
        '1,anna,schmidt,1980-04-03,a',
        '2,ana,schmidt,1980-04-03,a',
        '3,paul,meyer,1975-12-01,b',
      ].join('\n'),
    );
    const run = await runAcs(
      [
        'identity',
        'resolve',
        file,
        '--id-column',
        'person',
        '--map',
        'Vorname=givenName,Nachname=surname',
        '--map',
        'Geburtstag=dateOfBirth',
        '--truth',
        'who',
        '--out',
        join(dir, 'c.csv'),
        '--json',
      ],
      env.env,
    );
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.pairwise).toMatchObject({ truePairs: 1, truthFrom: 'column who' });
    const bad = await runAcs(['identity', 'resolve', file, '--map', 'Vorname=nickname'], env.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('map.Vorname');
    const missing = await runAcs(['identity', 'resolve', file, '--id-column', 'nope'], env.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('id-column');
    const usage = await runAcs(['identity', 'resolve'], env.env);
    expect(usage.code).toBe(2);
    await env.cleanup();
  });
});
