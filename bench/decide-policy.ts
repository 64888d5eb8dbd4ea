/**
 * Policy-gate benchmark: `PolicyGate.decide` (validate the request, build the Cedar call, map the answer to
 * execute / approval / deny) against the raw `statefulIsAuthorized` call on the same preparsed policy set and schema
 * with the equivalent, prebuilt request. Both run in the same process, interleaved in blocks.
 *
 *   npx tsx bench/decide-policy.ts [--quick]
 *
 * Prints p50/p99 latency and decisions/s for each, the ratio of p50s (target <= 1.5x) and a `BENCH_JSON {...}` line.
 */
import { performance } from 'node:perf_hooks';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { stream } from '../src/lib/index.ts';
import {
  CHANNELS,
  POLICY_ACTIONS,
  PURPOSES,
  PolicyGate,
  PolicyRequest,
  RISKS,
  toCedarCall,
  type Outcome,
  type PolicyRequestInput,
} from '../src/assure/index.ts';

const quick = process.argv.includes('--quick');
const REQUESTS = quick ? 2000 : 20_000;
const MAX_SECONDS = quick ? 3 : 20;
const WARMUP = quick ? 200 : 2000;
const BLOCK = 500;
const TARGET_RATIO = 1.5;
const SEED = 0x5eedc3da;

/** A seeded mix over every action, autonomy level, risk, consent state and holdout membership. */
function makeRequests(n: number): PolicyRequestInput[] {
  const rng = stream(SEED, 'decide-policy');
  const rnd = () => rng.next();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const action = pick(POLICY_ACTIONS);
    const outreach = action === 'send_message';
    const money = action === 'offer_credit' || action === 'apply_credit';
    return {
      agent: {
        id: pick(['retention', 'service-recovery', 'lead-nurturing', 'data-stewardship']),
        role: 'agent',
        autonomy: pick([0, 1, 2, 3, 3, 4, 4, 5]),
      },
      action,
      customer: {
        id: `C-${i % 2000}`,
        segment: pick(['consumer', 'smb', 'enterprise']),
        region: pick(['US-CA', 'US-NY', 'EU-DE']),
        inHoldout: rnd() < 0.1,
      },
      context: {
        ...(outreach ? { channel: pick(CHANNELS), purpose: pick(PURPOSES) } : {}),
        hasConsent: rnd() < 0.8,
        amountCents: money ? Math.floor(rnd() * 10_000) : 0,
        risk: pick([...RISKS, 'low', 'low']),
      },
    };
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(samples: number[]) {
  const sorted = Float64Array.from(samples).sort();
  const total = samples.reduce((a, b) => a + b, 0);
  return {
    count: samples.length,
    p50Us: +(percentile(sorted, 50) * 1000).toFixed(2),
    p99Us: +(percentile(sorted, 99) * 1000).toFixed(2),
    meanUs: +((total / samples.length) * 1000).toFixed(2),
    decisionsPerSec: Math.round(samples.length / (total / 1000)),
  };
}

const gate = PolicyGate.load();
const inputs = makeRequests(REQUESTS);
const calls = inputs.map((r) => toCedarCall(PolicyRequest.parse(r), gate.loaded, gate.creditApprovalLimitCents));

// Not timed: the gate and the raw call must agree on allow / deny for every request.
const outcomes: Record<Outcome, number> = { execute: 0, approval: 0, deny: 0 };
for (let i = 0; i < inputs.length; i++) {
  const outcome = gate.decide(inputs[i]).outcome;
  outcomes[outcome]++;
  const raw = cedar.statefulIsAuthorized(calls[i]!);
  const rawAllow = raw.type === 'success' && raw.response.decision === 'allow' && raw.response.diagnostics.errors.length === 0;
  if (rawAllow !== (outcome !== 'deny')) throw new Error(`request ${i}: gate said ${outcome}, raw Cedar ${JSON.stringify(raw)}`);
}

for (let i = 0; i < WARMUP; i++) {
  gate.decide(inputs[i % inputs.length]);
  cedar.statefulIsAuthorized(calls[i % calls.length]!);
}

const gateSamples: number[] = [];
const rawSamples: number[] = [];
const started = performance.now();
let sink = 0;
for (let from = 0; from < REQUESTS && performance.now() - started < MAX_SECONDS * 1000; from += BLOCK) {
  const to = Math.min(REQUESTS, from + BLOCK);
  for (let i = from; i < to; i++) {
    const t0 = performance.now();
    const d = cedar.statefulIsAuthorized(calls[i]!);
    rawSamples.push(performance.now() - t0);
    sink += d.type.length;
  }
  for (let i = from; i < to; i++) {
    const t0 = performance.now();
    const d = gate.decide(inputs[i]);
    gateSamples.push(performance.now() - t0);
    sink += d.outcome.length;
  }
}
const seconds = (performance.now() - started) / 1000;
if (sink === 0) throw new Error('unreachable');

const g = summary(gateSamples);
const r = summary(rawSamples);
const ratioP50 = +(g.p50Us / r.p50Us).toFixed(3);
const ratioP99 = +(g.p99Us / r.p99Us).toFixed(3);
const met = ratioP50 <= TARGET_RATIO;

const row = (name: string, s: ReturnType<typeof summary>) =>
  `  ${name.padEnd(34)} ${String(s.count).padStart(7)} ${s.p50Us.toFixed(1).padStart(8)} ${s.p99Us.toFixed(1).padStart(8)} ${s.meanUs.toFixed(1).padStart(8)} ${s.decisionsPerSec.toLocaleString('en-US').padStart(12)}`;
console.log(
  `Policy decisions (${gate.loaded.policies.length} policies, ${inputs.length} seeded mixed requests, interleaved blocks of ${BLOCK}, ${seconds.toFixed(1)} s):`,
);
console.log(
  `  ${''.padEnd(34)} ${'count'.padStart(7)} ${'p50 µs'.padStart(8)} ${'p99 µs'.padStart(8)} ${'mean µs'.padStart(8)} ${'decisions/s'.padStart(12)}`,
);
console.log(row('PolicyGate.decide', g));
console.log(row('raw statefulIsAuthorized', r));
console.log(`Outcome mix: ${outcomes.execute} execute, ${outcomes.approval} approval, ${outcomes.deny} deny`);
console.log(`Ratio gate / raw: p50 ${ratioP50}x, p99 ${ratioP99}x. Target p50 <= ${TARGET_RATIO}x -> ${met ? 'MET' : 'NOT MET'}`);
console.log(
  `BENCH_JSON ${JSON.stringify({
    bench: 'decide-policy',
    quick,
    requests: inputs.length,
    seconds: +seconds.toFixed(2),
    policies: gate.loaded.policies.length,
    outcomes,
    gate: g,
    raw: r,
    ratio: { p50: ratioP50, p99: ratioP99 },
    target: { p50Ratio: TARGET_RATIO, met },
    limits: { maxRequests: REQUESTS, maxSeconds: MAX_SECONDS, warmup: WARMUP, block: BLOCK, seed: SEED },
  })}`,
);
