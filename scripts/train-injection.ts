// Trains the prompt-injection classifier on the train split of data/trust/injection/corpus.jsonl plus fresh.jsonl and
// holdout.jsonl (never the test split or holdout2.jsonl) and writes
// src/trust/injection-model.json. Deterministic: the same corpus gives the same file.
//   npx tsx scripts/train-injection.ts
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLASSIFIER_THRESHOLD, classify, evaluateInjection, trainingSet, trainInjectionModel } from '../src/trust/index.ts';

const out = fileURLToPath(new URL('../src/trust/injection-model.json', import.meta.url));
const { train, test } = trainingSet();
const model = trainInjectionModel(train, { test: test.length });
writeFileSync(out, JSON.stringify(model, null, 2) + '\n');
const trainAcc = train.filter((i) => classify(model, i.text) >= CLASSIFIER_THRESHOLD === (i.label === 'injection')).length / train.length;
const b = evaluateInjection(test, model);
console.log(`trained on ${train.length} texts (${Object.keys(model.weights).length} features); train accuracy ${trainAcc.toFixed(3)}`);
console.log(`test: ${b.attacks} attacks, ${b.benign} benign; flagged ${b.detectionRate}, false positives ${b.falsePositiveRate}`);
console.log(`classifier alone: ${JSON.stringify(b.classifierOnly)}; rules alone: ${JSON.stringify(b.rulesOnly)}`);
console.log(`missed: ${b.missed.join(', ') || 'none'}; false positives: ${b.falsePositives.join(', ') || 'none'}`);
