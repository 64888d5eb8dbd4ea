import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataMissing, entityAliases, lcsLength, rougeL, trackEntities } from '../bench/rag-dstc.ts';
import { formatRagBench, runRagBench, type RagBenchResult } from '../bench/rag.ts';

/**
 * A tiny data set in the shape of DSTC11 track 5 (passages.jsonl, val_queries.jsonl), written here: the real one is
 * evaluation data and is not shipped with the repository.
 */
const ENTITIES = [
  { domain: 'hotel', id: 0, name: 'HARBOUR VIEW GUEST HOUSE' },
  { domain: 'hotel', id: 1, name: 'MILLBROOK HOTEL' },
  { domain: 'restaurant', id: 5, name: 'THE COPPER POT' },
];
const TOPICS = [
  { q: 'Is there free parking?', faq: 'Q: Is there parking? A: Yes, {n} has free parking for guests.', reply: 'Yes, parking is free.' },
  { q: 'Are pets allowed?', faq: 'Q: Can I bring my dog? A: Pets are not allowed at {n}.', reply: 'No, pets are not allowed.' },
  {
    q: 'Is the wifi fast?',
    faq: 'Q: Do you have wifi? A: Free wifi is available in all areas of {n}.',
    reply: 'Yes, wifi is free everywhere.',
  },
];
const REVIEWS = ['The rooms were spotless and the staff were friendly.', 'Breakfast was tasty but the coffee was cold.'];

function writeFixture(dir: string): void {
  const passages: object[] = [];
  for (const e of ENTITIES) {
    const name = e.name.toLowerCase().replace(/\b\w/g, (c) => c.toUpperCase());
    TOPICS.forEach((t, i) =>
      passages.push({
        passage_id: `${e.domain}:${e.id}:faq:${i}`,
        domain: e.domain,
        entity_id: e.id,
        entity_name: e.name,
        doc_type: 'faq',
        doc_id: i,
        sent_id: null,
        title: `${e.name} (${e.domain}) FAQ`,
        text: t.faq.replace('{n}', name),
      }),
    );
    REVIEWS.forEach((text, i) =>
      passages.push({
        passage_id: `${e.domain}:${e.id}:review:0:${i}`,
        domain: e.domain,
        entity_id: e.id,
        entity_name: e.name,
        doc_type: 'review',
        text,
      }),
    );
  }
  const queries: object[] = [];
  for (let i = 0; i < 30; i++) {
    const e = ENTITIES[i % ENTITIES.length]!;
    const t = TOPICS[i % TOPICS.length]!;
    // Some turns misspell the name ("Milbrook"), some name it only earlier in the dialogue.
    const said = i % 5 === 0 ? e.name.toLowerCase().replace('millbrook', 'milbrook') : e.name.toLowerCase();
    const context = [`U: I would like to know about ${said}.`, `S: Sure, ${said} is a popular place.`, `U: ${t.q}`].join('\n');
    queries.push({
      qid: `T${i}`,
      last_user_turn: t.q,
      context,
      context_last3: context,
      gold_passage_ids: [`${e.domain}:${e.id}:faq:${i % TOPICS.length}`],
      gold_entities: [`${e.domain}:${e.id}`],
      gold_doc_types: ['faq'],
      gold_response: t.reply,
    });
  }
  writeFileSync(join(dir, 'passages.jsonl'), passages.map((p) => JSON.stringify(p)).join('\n') + '\n');
  writeFileSync(join(dir, 'val_queries.jsonl'), queries.map((q) => JSON.stringify(q)).join('\n') + '\n');
}

describe('the RAG benchmark helpers', () => {
  it('ROUGE-L is the F of the longest common subsequence of lower-cased words', () => {
    expect(lcsLength(['a', 'b', 'c', 'd'], ['a', 'c', 'x', 'd'])).toBe(3);
    expect(rougeL('The cat sat', 'the cat sat')).toBe(1);
    expect(rougeL('', 'anything')).toBe(0);
    // candidate 4 words, reference 3, LCS 2 ("police killed"): P 1/2, R 2/3, F 4/7.
    expect(rougeL('police killed the gunman', 'gunman police killed')).toBeCloseTo(4 / 7, 10);
  });

  it('tracks the entity from the dialogue: most recent mention, two in one turn, misspelt names', () => {
    const aliases = entityAliases(
      new Map([
        ['hotel:0', 'HARBOUR VIEW GUEST HOUSE'],
        ['hotel:1', 'MILLBROOK HOTEL'],
        ['restaurant:5', 'THE COPPER POT'],
      ]),
    );
    expect(
      trackEntities('U: I stayed at Millbrook Hotel.\nS: Nice.\nU: Is the Copper Pot near?\nS: Yes.\nU: Do they take cards?', aliases),
    ).toEqual(['restaurant:5']);
    expect(trackEntities('U: Is Harbour View guesthouse or Millbrook quieter?', aliases)).toEqual(['hotel:0', 'hotel:1']);
    expect(trackEntities('U: Tell me about the milbrook hotel please.\nU: Is it clean?', aliases)).toEqual(['hotel:1']);
    expect(trackEntities('U: Any hotel in the north?', aliases)).toEqual([]);
  });
});

describe('npm run bench:rag on a tiny DSTC-shaped set (PGlite)', () => {
  let dir: string;
  let result: RagBenchResult;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acs-bench-rag-'));
    writeFixture(dir);
    result = await runRagBench({ dataDir: dir, mask: false, injectionPipeline: false });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports retrieval and grounding figures, each in [0, 1], in the documented shape', () => {
    expect(result.data).toEqual({ passages: 15, entities: 3, turns: 30 });
    const r = result.retrieval;
    for (const x of [r.baselineBm25, r.baselineBm25TextOnly, r.acsFlat, r.acsEntity, r.acsEntityLastTurn]) {
      expect(Object.keys(x).sort()).toEqual(['mrrAt10', 'recallAt1', 'recallAt5', 'turns']);
      expect(x.turns).toBe(30);
      for (const v of [x.recallAt1, x.recallAt5, x.mrrAt10]) (expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1));
    }
    expect(r.entityDetection.exact).toBe(1);
    expect(r.acsEntityLastTurn.recallAt5).toBe(1);
    const g = result.grounding;
    expect(g.published.rougeL).toBe(0.287);
    for (const x of [g.baselineFirstPassage, g.composerFlat, g.composerEntity]) {
      expect(x.turns).toBe(30);
      for (const v of [x.rougeL, x.rougeLAnswered, x.groundingRate, x.abstentionRate, x.guardrailPassRate])
        if (v !== null) (expect(v).toBeGreaterThanOrEqual(0), expect(v).toBeLessThanOrEqual(1));
    }
    expect(g.composerEntity.groundingRate).not.toBeNull();
    expect(result.masking).toBeNull();
    // The detector's figures on the shipped texts; the pipeline part is skipped here (it has its own test).
    expect(result.injection.sideEffects).toBeNull();
    expect(result.injection.detection.target.detectionRate).toBe(0.9);
    for (const set of [result.injection.detection.test, result.injection.detection.holdout, result.injection.detection.holdout2])
      (expect(set.attacks).toBeGreaterThan(0),
        expect(set.detectionRate).toBeGreaterThanOrEqual(0),
        expect(set.detectionRate).toBeLessThanOrEqual(1));
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    const text = formatRagBench(result);
    expect(text).toMatch(/baseline: Okapi BM25/);
    expect(text).toMatch(/published: DSTC11 track 5 baseline, BART-base\s+0\.287/);
    expect(text).toMatch(/holdout2 \(unseen wording: the honest figure/);
    expect(text).toMatch(/attacks through the pipeline: skipped/);
  });

  it('fails with a clear message when the data is absent', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'acs-bench-rag-none-'));
    try {
      await expect(runRagBench({ dataDir: empty, mask: false })).rejects.toThrow(DataMissing);
      await expect(runRagBench({ dataDir: empty, mask: false })).rejects.toThrow(/passages\.jsonl.*missing.*--data DIR/s);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
