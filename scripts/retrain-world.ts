// Measures the retrain on live outcomes (src/learn/retrain.ts) in the seeded demo world: the first N Telco customers
// run D simulated days through ACS (agents, policy, the simulated reviewer), then a champion is trained on the
// imported label and promoted, and the retrain judges a challenger trained on the churned outcomes the world
// recorded. Prints one JSON document. Usage: npx tsx scripts/retrain-world.ts [customers=2000] [days=45]
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { playRegistry, retentionPlay, serviceRecoveryPlay } from '../src/act/index.ts';
import { PolicyGate } from '../src/assure/index.ts';
import { OutboxBus } from '../src/bus/index.ts';
import { promoteVersion, retrainModel, trainAndRegister } from '../src/learn/index.ts';
import { runScheduledAgents } from '../src/loop/index.ts';
import { subscribePipeline } from '../src/pipeline/index.ts';
import { ChurnModel, loadChurnExamples, trainingFingerprint } from '../src/reason/index.ts';
import { migrate, openPglite } from '../src/store/index.ts';
import { importFirstCustomers, seedContactsAndConsents, WorldDriver, worldFromDatabase } from '../src/world/driver.ts';

const customers = Number(process.argv[2] ?? 2000);
const days = Number(process.argv[3] ?? 45);
const seed = 1;
const START = '2026-01-05T00:00:00.000Z';
const t0 = Date.now();
const db = await openPglite();
await migrate(db);
await importFirstCustomers(db, fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url)), customers, 'sim');
await seedContactsAndConsents(db, seed);
const examples = await loadChurnExamples(db);
const churn = ChurnModel.train(examples, trainingFingerprint(examples));
const gate = PolicyGate.load();
const bus = new OutboxBus(db, pino({ level: 'silent' }), 3_600_000);
const loop = { gate, churn: () => churn, holdout: { salt: `sim-${seed}`, fraction: 0.1 }, dailyCreditBudgetCents: 100_000 };
subscribePipeline(bus, { decide: loop });
const driver = await WorldDriver.create({
  db,
  bus,
  gate,
  plays: playRegistry(retentionPlay(gate), serviceRecoveryPlay(gate)),
  world: await worldFromDatabase(db, seed),
  start: START,
  reviewer: 'sim',
  daily: (now) => runScheduledAgents(db, loop, now),
});
let churned = 0;
for (let d = 0; d < days; d++) {
  const day = await driver.runDay(d);
  churned += day.outcomes.filter((o) => o.type === 'churned').length;
}
await bus.drain();
await bus.stop();
const now = new Date(Date.parse(START) + days * 86_400_000);
const v1 = await trainAndRegister(db, 'churn', { families: ['logistic'], seed: 1 }, 'measure', now);
await promoteVersion(db, { name: 'churn', version: v1.version, stage: 'champion', actor: 'measure', now });
const r = await retrainModel(db, 'churn', 'measure', now);
console.log(
  JSON.stringify(
    {
      customers,
      days,
      seed,
      churnedOutcomes: churned,
      champion: { trainedOn: 'imported label', rows: v1.trainingRows, heldOutAuc: v1.metrics.heldOut.auc },
      retrain: r,
      seconds: (Date.now() - t0) / 1000,
    },
    null,
    1,
  ),
);
await db.close();
