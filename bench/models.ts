/**
 * Model-training benchmark (src/learn/models): the automatic choice between L2 logistic regression and boosted
 * trees, on the Telco churn data over five stratified 70/30 splits (seeds 0–4), and on a second churn table made
 * by the simulator (behaviour in a 30-day window, churn in the 90 days after), against raw baselines measured in
 * the same run: the existing ChurnModel (src/reason/churn-model.ts: 19 hand-made features, one penalty) and a plain
 * logistic regression on the same automatic features (no hinges, no cross-validation, no calibration).
 *
 *   npm run bench:models [-- --quick]      (--quick: one split instead of five, 2,000 simulated customers)
 *
 * Prints per dataset and split the held-out ROC AUC of the automatic choice, of each family, and of the baselines,
 * with training times; then training time on the whole Telco file as `acs model train` runs it, scoring throughput
 * of raw rows (rows/s) for each family against the ChurnModel's, the targets, and a `BENCH_JSON {...}` line.
 */
import { fileURLToPath } from 'node:url';
import {
  auc,
  designMatrix,
  FeatureEncoder,
  fitLogistic,
  inferSchema,
  logisticDesign,
  logisticScores,
  readCsvTable,
  stratifiedSplit,
  targetLabels,
  trainModel,
  type Model,
  type RawRow,
} from '../src/learn/models/index.ts';
import { ChurnModel, type ChurnModelInput } from '../src/reason/churn-model.ts';
import { createWorld, simCustomerFromTelcoRow, simDay, simulateDay, type SimCustomerInput } from '../src/sim/index.ts';
import { CANCEL_PAGE } from '../src/sim/texts.ts';

const quick = process.argv.includes('--quick');
const SEEDS = quick ? [0] : [0, 1, 2, 3, 4];
const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));
const TARGETS = { auc: 0.85, trainSeconds: 10, rowsPerSecond: 100_000 };
/** scikit-learn defaults on the same five splits, as quoted in issue 6 (not measured here). */
const SKLEARN_QUOTED = { logistic: 0.846, histGradientBoosting: 0.834 };

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const f4 = (x: number) => x.toFixed(4);
const secondsSince = (t: number) => (performance.now() - t) / 1000;

/** Wall-clock and CPU seconds of a call: on a shared machine the wall clock also counts other processes' turns. */
function timed<T>(fn: () => T): { value: T; seconds: number; cpuSeconds: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const cpu = process.cpuUsage(c0);
  return { value, seconds: secondsSince(t0), cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

interface SplitRow {
  dataset: string;
  seed: number;
  chosen: string;
  auc: number;
  logistic: number;
  gbdt: number;
  plainLogistic: number;
  churnModel: number | null;
  trainSeconds: number;
  trainCpuSeconds: number;
  plainSeconds: number;
  churnModelSeconds: number | null;
  logLoss: number;
  brier: number;
}

/** The plain baseline: the same automatic features, one logistic fit at l2 = 1, no hinges, CV or calibration. */
function plainLogistic(
  rows: RawRow[],
  target: string,
  positive: string,
  train: Uint32Array,
  test: Uint32Array,
): { auc: number; seconds: number } {
  const t0 = performance.now();
  const trainRows = Array.from(train, (i) => rows[i]!);
  const schema = inferSchema(trainRows, target, positive);
  const encoder = new FeatureEncoder(schema);
  const x = encoder.encode(trainRows);
  const all = Uint32Array.from(trainRows, (_, i) => i);
  const design = logisticDesign(x, encoder.width, all, schema, { hinges: false });
  const y = targetLabels(trainRows, target, positive);
  const fit = fitLogistic(designMatrix(x, encoder.width, all, design), y, 1);
  const seconds = secondsSince(t0);
  const testRows = Array.from(test, (i) => rows[i]!);
  const xt = encoder.encode(testRows);
  const scores = logisticScores(
    designMatrix(
      xt,
      encoder.width,
      Uint32Array.from(testRows, (_, i) => i),
      design,
    ),
    fit,
  );
  return { auc: auc(scores, targetLabels(testRows, target, positive)), seconds };
}

const churnInput = (x: SimCustomerInput): ChurnModelInput => ({
  attributes: { seniorCitizen: x.seniorCitizen, partner: x.partner, dependents: x.dependents },
  subscription: {
    contract: x.contract,
    paymentMethod: x.paymentMethod,
    paperlessBilling: x.paperlessBilling,
    tenureMonths: x.tenureMonths,
    monthlyAmount: x.monthlyAmount,
    services: x.services,
  },
});

function runSplits(
  dataset: string,
  rows: RawRow[],
  target: string,
  positive: string,
  churnInputs: ChurnModelInput[] | null,
): { rows: SplitRow[]; models: Model[] } {
  const out: SplitRow[] = [];
  const models: Model[] = [];
  const y = targetLabels(rows, target, positive);
  for (const seed of SEEDS) {
    const {
      value: r,
      seconds: trainSeconds,
      cpuSeconds: trainCpuSeconds,
    } = timed(() => trainModel(rows, { target, positive, seed, compareFamilies: true }));
    const m = r.model.json.metrics;
    // The same split trainModel made (every row is labelled in these tables).
    const { train, test } = stratifiedSplit(
      y,
      Uint32Array.from(rows, (_, i) => i),
      0.3,
      seed,
    );
    const plain = plainLogistic(rows, target, positive, train, test);
    let churnModel: number | null = null;
    let churnModelSeconds: number | null = null;
    if (churnInputs) {
      const c0 = performance.now();
      const baseline = ChurnModel.train(
        Array.from(train, (i) => ({ input: churnInputs[i]!, churned: y[i] === 1 })),
        'bench',
      );
      churnModelSeconds = secondsSince(c0);
      churnModel = auc(
        Array.from(test, (i) => baseline.predict(churnInputs[i]!).probability),
        Array.from(test, (i) => y[i]!),
      );
    }
    out.push({
      dataset,
      seed,
      chosen: r.model.json.family,
      auc: m.heldOut.auc,
      logistic: m.heldOutAucByFamily!.logistic!,
      gbdt: m.heldOutAucByFamily!.gbdt!,
      plainLogistic: plain.auc,
      churnModel,
      trainSeconds,
      trainCpuSeconds,
      plainSeconds: plain.seconds,
      churnModelSeconds,
      logLoss: m.heldOut.logLoss,
      brier: m.heldOut.brier,
    });
    models.push(r.model);
    const row = out.at(-1)!;
    log(
      `${dataset} seed ${seed}: ${row.chosen} ${f4(row.auc)} (logistic ${f4(row.logistic)}, gbdt ${f4(row.gbdt)}, plain ${f4(row.plainLogistic)}${churnModel === null ? '' : `, ChurnModel ${f4(churnModel)}`}) in ${trainSeconds.toFixed(2)} s`,
    );
  }
  return { rows: out, models };
}

/** Rows per second scoring raw rows in batches, over at least `seconds` after a warm-up: by the wall clock and per CPU second. */
function throughput(score: (rows: RawRow[]) => unknown, rows: RawRow[], seconds = quick ? 0.5 : 2): { wall: number; cpu: number } {
  score(rows);
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    score(rows);
    n += rows.length;
  }
  const cpu = process.cpuUsage(c0);
  return { wall: n / secondsSince(t0), cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

/**
 * The second dataset: the simulated world (src/sim) over the Telco customers, no agents acting. Each customer's
 * behaviour in days 0–29 (usage, tickets, disputes, failed payments, NPS, web visits, the cancel page, e-mail)
 * and their contract become a row; the label is whether they churned in days 30–119. Customers lost before day
 * 30 are left out. Values are written the way an export would: numbers as strings, blanks where there is none.
 */
function simulatedChurnTable(inputs: SimCustomerInput[], seed: number): RawRow[] {
  const OBSERVE = 30;
  const HORIZON = 90;
  let world = createWorld(inputs, seed);
  const stats = new Map<
    string,
    {
      usageEarly: number;
      usageLate: number;
      tickets: number;
      urgent: number;
      disputes: number;
      failed: number;
      nps: number | null;
      web: number;
      cancel: number;
      opens: number;
      unsubscribed: boolean;
    }
  >();
  for (const c of inputs)
    stats.set(c.customerId, {
      usageEarly: 0,
      usageLate: 0,
      tickets: 0,
      urgent: 0,
      disputes: 0,
      failed: 0,
      nps: null,
      web: 0,
      cancel: 0,
      opens: 0,
      unsubscribed: false,
    });
  const churnedBefore = new Set<string>();
  const churnedAfter = new Set<string>();
  for (let d = 0; d < OBSERVE + HORIZON; d++) {
    const r = simulateDay(world, simDay('2025-01-01T00:00:00.000Z', d));
    world = r.world;
    for (const o of r.outcomes) if (o.type === 'churned' && o.customerId) (d < OBSERVE ? churnedBefore : churnedAfter).add(o.customerId);
    if (d >= OBSERVE) continue;
    for (const s of r.signals) {
      const st = stats.get(String(s.subject.customerId));
      if (!st) continue; // leads
      const data = s.data as Record<string, unknown>;
      if (s.type === 'usage') d < OBSERVE / 2 ? (st.usageEarly += Number(data.quantity)) : (st.usageLate += Number(data.quantity));
      else if (s.type === 'support_ticket') (st.tickets++, data.priority === 'high' && st.urgent++);
      else if (s.type === 'billing_dispute') st.disputes++;
      else if (s.type === 'payment_failed') st.failed++;
      else if (s.type === 'nps') st.nps = Number(data.score);
      else if (s.type === 'web_visit') String(data.url).endsWith(CANCEL_PAGE) ? st.cancel++ : st.web++;
      else if (s.type === 'email_engagement')
        data.event === 'opened' ? st.opens++ : data.event === 'unsubscribed' && (st.unsubscribed = true);
    }
  }
  return inputs
    .filter((c) => !churnedBefore.has(c.customerId))
    .map((c) => {
      const st = stats.get(c.customerId)!;
      return {
        customer_id: c.customerId,
        contract: c.contract ?? '',
        internet: c.services.internetService,
        payment: c.paymentMethod ?? '',
        tenure_months: String(c.tenureMonths + 1),
        monthly_fee: c.monthlyAmount.toFixed(2),
        usage_days_0_14: st.usageEarly.toFixed(1),
        usage_days_15_29: st.usageLate.toFixed(1),
        tickets: String(st.tickets),
        urgent_tickets: String(st.urgent),
        billing_disputes: String(st.disputes),
        failed_payments: String(st.failed),
        last_nps: st.nps === null ? '' : String(st.nps),
        web_visits: String(st.web),
        cancel_page_visits: String(st.cancel),
        email_opens: String(st.opens),
        unsubscribed: st.unsubscribed ? 'yes' : 'no',
        churned_next_90d: churnedAfter.has(c.customerId) ? 'yes' : 'no',
      };
    });
}

// --- Telco
const telco = readCsvTable(TELCO).rows;
const telcoInputs = telco.map((r, i) => simCustomerFromTelcoRow(r, `CUST-${String(i + 1).padStart(6, '0')}`));
log(`Telco: ${telco.length} rows; ${SEEDS.length} split(s)`);
const telcoRun = runSplits('telco', telco, 'churn', 'Yes', telcoInputs.map(churnInput));

// Training on the whole file: as `acs model train` runs it (30% held out for the report, 5-fold CV on the rest),
// and with only 5% held out, so nearly all 7,043 rows are cross-validated and fitted.
const whole = timed(() => trainModel(telco, { target: 'churn', positive: 'Yes', seed: 0 }));
const nearlyAll = timed(() => trainModel(telco, { target: 'churn', positive: 'Yes', seed: 0, testFraction: 0.05 }));
const wholeSeconds = Math.max(whole.seconds, nearlyAll.seconds);
log(
  `whole file: ${whole.value.model.json.family} in ${whole.seconds.toFixed(2)} s (CPU ${whole.cpuSeconds.toFixed(2)} s); 95% fitted: ${nearlyAll.seconds.toFixed(2)} s (CPU ${nearlyAll.cpuSeconds.toFixed(2)} s)`,
);

// Scoring: raw CSV rows (strings) to calibrated probabilities, per family, against the ChurnModel on its prepared inputs.
const byFamily = Object.fromEntries(
  (['logistic', 'gbdt'] as const).map((family) => [
    family,
    trainModel(telco, { target: 'churn', positive: 'Yes', seed: 0, families: [family] }).model,
  ]),
);
const churnBaseline = ChurnModel.train(
  telcoInputs.map((x, i) => ({ input: churnInput(x), churned: telco[i]!.churn === 'Yes' })),
  'bench',
);
const preparedInputs = telcoInputs.map(churnInput);
const scoring = {
  logistic: throughput((rows) => byFamily.logistic!.predictMany(rows), telco),
  gbdt: throughput((rows) => byFamily.gbdt!.predictMany(rows), telco),
  gbdtOneAtATime: throughput((rows) => rows.map((r) => byFamily.gbdt!.predict(r)), telco),
  churnModel: throughput(() => preparedInputs.map((x) => churnBaseline.predict(x).probability), telco),
};
const gbdtTrees = (byFamily.gbdt!.json.params as { trees: unknown[] }).trees.length;

// --- Simulated churn table
const simCustomers = quick ? telcoInputs.slice(0, 2000) : telcoInputs;
const s0 = performance.now();
const sim = simulatedChurnTable(simCustomers, 11);
const simPositives = sim.filter((r) => r.churned_next_90d === 'yes').length;
log(`simulated table: ${sim.length} rows, ${simPositives} churned, generated in ${secondsSince(s0).toFixed(1)} s`);
const simRun = runSplits('simulated', sim, 'churned_next_90d', 'yes', null);

// --- Report
function summarize(run: SplitRow[]) {
  return {
    splits: run.length,
    auc: mean(run.map((r) => r.auc)),
    logistic: mean(run.map((r) => r.logistic)),
    gbdt: mean(run.map((r) => r.gbdt)),
    plainLogistic: mean(run.map((r) => r.plainLogistic)),
    churnModel: run[0]!.churnModel === null ? null : mean(run.map((r) => r.churnModel!)),
    chosen: run.map((r) => r.chosen),
    trainSeconds: mean(run.map((r) => r.trainSeconds)),
    trainCpuSeconds: mean(run.map((r) => r.trainCpuSeconds)),
    plainSeconds: mean(run.map((r) => r.plainSeconds)),
    churnModelSeconds: run[0]!.churnModelSeconds === null ? null : mean(run.map((r) => r.churnModelSeconds!)),
    logLoss: mean(run.map((r) => r.logLoss)),
    brier: mean(run.map((r) => r.brier)),
  };
}
const telcoSummary = summarize(telcoRun.rows);
const simSummary = summarize(simRun.rows);

console.log(`\nHeld-out ROC AUC, stratified 70/30 splits (seeds ${SEEDS.join(', ')}); one configuration for both datasets:`);
console.log('  dataset     seed  chosen    auto    logistic  gbdt    plain LR  ChurnModel  train s  log loss  Brier');
for (const r of [...telcoRun.rows, ...simRun.rows]) {
  console.log(
    `  ${r.dataset.padEnd(10)}  ${String(r.seed).padEnd(4)}  ${r.chosen.padEnd(8)}  ${f4(r.auc)}  ${f4(r.logistic)}    ${f4(r.gbdt)}  ${f4(r.plainLogistic)}    ${r.churnModel === null ? '   -      ' : f4(r.churnModel) + '    '}  ${r.trainSeconds.toFixed(2).padStart(7)}  ${f4(r.logLoss)}    ${f4(r.brier)}`,
  );
}
for (const [name, s] of [
  ['telco', telcoSummary],
  ['simulated', simSummary],
] as const) {
  console.log(
    `  ${name.padEnd(10)}  mean  ${''.padEnd(8)}  ${f4(s.auc)}  ${f4(s.logistic)}    ${f4(s.gbdt)}  ${f4(s.plainLogistic)}    ${s.churnModel === null ? '   -      ' : f4(s.churnModel) + '    '}  ${s.trainSeconds.toFixed(2).padStart(7)}  ${f4(s.logLoss)}    ${f4(s.brier)}`,
  );
}
console.log(
  `\nTelco: mean AUC of the automatic choice ${f4(telcoSummary.auc)}; ratio to the plain logistic regression ${(telcoSummary.auc / telcoSummary.plainLogistic).toFixed(4)}, to the ChurnModel ${(telcoSummary.auc / telcoSummary.churnModel!).toFixed(4)}`,
);
console.log(
  `  quoted for comparison (issue 6, scikit-learn defaults on its five splits, not measured here): LogisticRegression ${SKLEARN_QUOTED.logistic}, HistGradientBoosting ${SKLEARN_QUOTED.histGradientBoosting}`,
);
console.log(
  `  training per split (${telcoRun.models[0]!.json.training.trainRows} rows fitted, both families refitted to compare them): ${telcoSummary.trainSeconds.toFixed(2)} s, CPU ${telcoSummary.trainCpuSeconds.toFixed(2)} s; plain logistic ${telcoSummary.plainSeconds.toFixed(3)} s; ChurnModel ${telcoSummary.churnModelSeconds!.toFixed(3)} s`,
);
console.log(
  `  training on the whole file (${telco.length} rows) as acs model train runs it (${whole.value.model.json.training.trainRows} cross-validated and fitted): ${whole.seconds.toFixed(2)} s, CPU ${whole.cpuSeconds.toFixed(2)} s (${whole.value.model.json.family})`,
);
console.log(
  `  the same with 5% held out (${nearlyAll.value.model.json.training.trainRows} cross-validated and fitted): ${nearlyAll.seconds.toFixed(2)} s, CPU ${nearlyAll.cpuSeconds.toFixed(2)} s (${nearlyAll.value.model.json.family})`,
);
console.log(
  `Simulated churn table (${sim.length} customers, ${simPositives} churned in 90 days, ${((100 * simPositives) / sim.length).toFixed(1)}%): mean AUC ${f4(simSummary.auc)}; plain logistic ${f4(simSummary.plainLogistic)} (ratio ${(simSummary.auc / simSummary.plainLogistic).toFixed(4)})`,
);
const rate = (t: { wall: number; cpu: number }) =>
  `${Math.round(t.wall).toLocaleString('en-US')} rows/s (${Math.round(t.cpu).toLocaleString('en-US')} per CPU second)`;
console.log(`Scoring raw CSV rows to calibrated probabilities, ${telco.length} rows a batch:`);
console.log(
  `  logistic ${rate(scoring.logistic)}; gbdt (${gbdtTrees} trees) ${rate(scoring.gbdt)}; gbdt one row at a time ${rate(scoring.gbdtOneAtATime)}`,
);
console.log(
  `  ChurnModel on inputs prepared beforehand ${rate(scoring.churnModel)}; ratio gbdt / ChurnModel ${(scoring.gbdt.wall / scoring.churnModel.wall).toFixed(2)}, logistic / ChurnModel ${(scoring.logistic.wall / scoring.churnModel.wall).toFixed(2)}`,
);
const verdicts = {
  auc: { target: `mean Telco AUC >= ${TARGETS.auc}`, value: telcoSummary.auc, met: telcoSummary.auc >= TARGETS.auc },
  train: {
    target: `training on ${telco.length} rows <= ${TARGETS.trainSeconds} s (slower of the two runs, wall clock)`,
    value: wholeSeconds,
    met: wholeSeconds <= TARGETS.trainSeconds,
  },
  scoring: {
    target: `scoring >= ${TARGETS.rowsPerSecond} rows/s (slower family, batch, wall clock)`,
    value: Math.min(scoring.logistic.wall, scoring.gbdt.wall),
    met: Math.min(scoring.logistic.wall, scoring.gbdt.wall) >= TARGETS.rowsPerSecond,
  },
};
console.log('\nTargets:');
for (const v of Object.values(verdicts))
  console.log(
    `  ${v.target}: ${typeof v.value === 'number' && v.value < 100 ? v.value.toFixed(4) : Math.round(v.value).toLocaleString('en-US')} -> ${v.met ? 'MET' : 'NOT MET'}`,
  );
if (quick) console.log('  (--quick: one split and 2,000 simulated customers; the targets are for the full run)');
console.log(
  `BENCH_JSON ${JSON.stringify({ quick, seeds: SEEDS, telco: telcoSummary, simulated: { rows: sim.length, positives: simPositives, ...simSummary }, splits: [...telcoRun.rows, ...simRun.rows], wholeFile: { rows: telco.length, asCli: { fitted: whole.value.model.json.training.trainRows, seconds: whole.seconds, cpuSeconds: whole.cpuSeconds, family: whole.value.model.json.family }, heldOut5: { fitted: nearlyAll.value.model.json.training.trainRows, seconds: nearlyAll.seconds, cpuSeconds: nearlyAll.cpuSeconds, family: nearlyAll.value.model.json.family } }, scoring, gbdtTrees, sklearnQuoted: SKLEARN_QUOTED, verdicts })}`,
);
