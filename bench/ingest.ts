/**
 * Ingestion benchmark: signals/s accepted end to end (validated, matched to a customer, stored, ledger
 * written, features updated through the outbox bus) against the raw insert rate of the same database.
 *
 *   npx tsx bench/ingest.ts [--quick] [--backend pglite|postgres|both]
 *
 * See bench/README.md for what is measured and how to read the output.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { OutboxBus } from '../src/bus/index.ts';
import { ledgerLag, sequenceLedger, verifyLedger } from '../src/ledger/index.ts';
import { stream, type Rng } from '../src/lib/index.ts';
import { subscribePipeline } from '../src/pipeline/index.ts';
import { ingestSignals, scoreSentiment, type IntakeOutcome } from '../src/sense/index.ts';
import { insertRows, migrate, openPglite, type Db } from '../src/store/index.ts';
import { fmt, pct, postgresUrl, probePostgres, progress, redact, table, withPostgresSchema } from './lib.ts';

// ---------------------------------------------------------------------------------------------
// Options and limits

type BackendChoice = 'pglite' | 'postgres' | 'both';
export type BackendName = 'pglite' | 'postgres';

interface Options {
  quick: boolean;
  backend: BackendChoice;
}

export interface Limits {
  customers: number;
  maxSeconds: number;
  rawRows: number;
  /** Per batch size: the most signals one timed configuration may ingest. */
  maxSignals: Record<number, number>;
  /** Per batch size: warm-up iterations (not timed). */
  warmupBatches: Record<number, number>;
}

const BATCH_SIZES = [1, 100, 1000] as const;
const TARGET_RATIO = 0.3;
const SET_BATCH = 1000;
const SEED = 0x5eedac51;

export const FULL: Limits = {
  customers: 2000,
  maxSeconds: 20,
  rawRows: 20_000,
  maxSignals: { 1: 1000, 100: 20_000, 1000: 20_000 },
  warmupBatches: { 1: 20, 100: 2, 1000: 1 },
};
export const QUICK: Limits = {
  customers: 300,
  maxSeconds: 3,
  rawRows: 2000,
  maxSignals: { 1: 100, 100: 1000, 1000: 2000 },
  warmupBatches: { 1: 5, 100: 1, 1000: 1 },
};

function parseArgs(argv: string[]): Options {
  const opts: Options = { quick: false, backend: 'both' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--backend' || arg.startsWith('--backend=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (value !== 'pglite' && value !== 'postgres' && value !== 'both') {
        throw new Error(`--backend must be pglite, postgres or both (got ${value ?? 'nothing'})`);
      }
      opts.backend = value;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: tsx bench/ingest.ts [--quick] [--backend pglite|postgres|both]\n');
      process.exit(0);
    } else {
      throw new Error(`unknown argument: ${arg}`);
    }
  }
  return opts;
}

// ---------------------------------------------------------------------------------------------
// Deterministic workload

export interface Customer {
  accountId: string;
  contactId: string;
  customerId: string;
  email: string;
}

export function makeCustomers(n: number): Customer[] {
  const out: Customer[] = [];
  for (let i = 1; i <= n; i++) {
    const num = String(i).padStart(6, '0');
    // 'BC-' and not 'CUST-': the intake generates CUST-nnnnnn ids for new profiles from a sequence.
    out.push({
      accountId: `acc_bench_${num}`,
      contactId: `con_bench_${num}`,
      customerId: `BC-${num}`,
      email: `customer.${num}@bench.example.com`,
    });
  }
  return out;
}

export interface SignalSubjectInput {
  customerId?: string;
  email?: string;
}

export interface BenchSignal {
  id: string;
  type: string;
  occurredAt: string;
  source: string;
  subject: SignalSubjectInput;
  data: Record<string, unknown>;
}

const TICKET_WORDS = [
  'the',
  'app',
  'is',
  'very',
  'slow',
  'since',
  'yesterday',
  'and',
  'my',
  'invoice',
  'was',
  'wrong',
  'again',
  'please',
  'help',
  'thanks',
  'great',
  'support',
  'login',
  'error',
  'not',
  'working',
  'cannot',
  'export',
  'report',
  'dashboard',
  'crashes',
  'when',
  'I',
  'open',
  'it',
  'frustrated',
  'waiting',
  'for',
  'a',
  'refund',
  'resolved',
  'quick',
  'response',
  'appreciate',
  'team',
  'billing',
  'problem',
  'account',
];
const FEATURES = ['reports', 'dashboards', 'api', 'exports', 'sync', 'mobile'];
const PAGES = ['pricing', 'docs/getting-started', 'blog/release-notes', 'features', 'contact', 'login'];
const EMAIL_EVENTS = ['delivered', 'opened', 'clicked', 'bounced', 'unsubscribed', 'replied'] as const;
const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
const CHANNELS = ['email', 'phone', 'chat', 'web', 'social'] as const;
const DAY_MS = 86_400_000;

/** Makes valid signals of mixed types about existing customers (95%) and unknown ones (5%). */
export class SignalFactory {
  private readonly rand: Rng;
  private n = 0;

  constructor(
    seed: number,
    private readonly customers: Customer[],
    private readonly prefix: string,
    private readonly nowMs: number,
  ) {
    this.rand = stream(seed, 'bench-ingest');
  }

  private int(max: number): number {
    return Math.floor(this.rand.next() * max);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** The same address with some letters upper-cased, so intake has to normalise it. */
  private mixCase(email: string): string {
    let out = '';
    for (const c of email) out += this.rand.next() < 0.3 ? c.toUpperCase() : c;
    return out;
  }

  private text(minWords: number, maxWords: number): string {
    const words: string[] = [];
    const count = minWords + this.int(maxWords - minWords + 1);
    for (let i = 0; i < count; i++) words.push(this.pick(TICKET_WORDS));
    return words.join(' ');
  }

  /** The signal plus the account it belongs to when the customer is known (for raw rows). */
  next(): { signal: BenchSignal; accountId: string | null } {
    const n = ++this.n;
    const id = `${this.prefix}-${String(n).padStart(8, '0')}`;
    let subject: SignalSubjectInput;
    let accountId: string | null = null;
    const who = this.rand.next();
    if (who < 0.05) {
      // Unknown subject: the intake creates a new profile for it.
      subject =
        this.rand.next() < 0.5 ? { customerId: `NEW-${this.prefix}-${n}` } : { email: `Prospect.${this.prefix}.${n}@Unknown.example.org` };
    } else {
      const c = this.pick(this.customers);
      accountId = c.accountId;
      subject = who < 0.525 ? { customerId: c.customerId } : { email: this.mixCase(c.email) };
    }
    const occurredAt = new Date(this.nowMs - Math.floor(this.rand.next() * 30 * DAY_MS)).toISOString();
    const kind = this.rand.next();
    let type: string;
    let data: Record<string, unknown>;
    if (kind < 0.35) {
      type = 'usage';
      data = { feature: this.pick(FEATURES), quantity: 1 + this.int(500), unit: 'events' };
    } else if (kind < 0.45) {
      type = 'payment_failed';
      data = { amount: Math.round(this.rand.next() * 50_000) / 100, currency: 'USD', reason: 'card_declined', invoiceId: `inv-${n}` };
    } else if (kind < 0.55) {
      type = 'nps';
      data = this.rand.next() < 0.5 ? { score: this.int(11) } : { score: this.int(11), comment: this.text(5, 15) };
    } else if (kind < 0.7) {
      type = 'support_ticket';
      data = {
        ticketId: `tk-${n}`,
        subject: this.text(3, 8),
        text: this.text(20, 60),
        priority: this.pick(PRIORITIES),
        channel: this.pick(CHANNELS),
      };
    } else if (kind < 0.85) {
      type = 'web_visit';
      data = {
        url: `https://www.example.com/${this.pick(PAGES)}`,
        durationSeconds: this.int(900),
        referrer: 'https://search.example.net/',
      };
    } else {
      type = 'email_engagement';
      data = { event: this.pick(EMAIL_EVENTS), campaignId: `cmp-${this.int(40)}` };
    }
    return { signal: { id, type, occurredAt, source: 'bench', subject, data }, accountId };
  }

  batch(size: number): BenchSignal[] {
    const out: BenchSignal[] = [];
    for (let i = 0; i < size; i++) out.push(this.next().signal);
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// Setup

export async function seedCustomers(db: Db, customers: Customer[]): Promise<void> {
  await db.transaction(async (tx) => {
    await insertRows(
      tx,
      'accounts',
      { id: 'text', customer_id: 'text', name: 'text', kind: 'text' },
      customers.map((c, i) => ({
        id: c.accountId,
        customer_id: c.customerId,
        name: `Bench Customer ${i + 1}`,
        kind: 'business',
      })),
    );
    await insertRows(
      tx,
      'contacts',
      { id: 'text', account_id: 'text', first_name: 'text', last_name: 'text', email: 'text' },
      customers.map((c, i) => ({
        id: c.contactId,
        account_id: c.accountId,
        first_name: 'Customer',
        last_name: String(i + 1),
        email: c.email,
      })),
    );
    await insertRows(
      tx,
      'identities',
      { kind: 'text', value: 'text', account_id: 'text', source: 'text' },
      customers.flatMap((c) => [
        { kind: 'customer_id', value: c.customerId, account_id: c.accountId, source: 'bench' },
        { kind: 'email', value: c.email.toLowerCase(), account_id: c.accountId, source: 'bench' },
      ]),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Raw insert baselines

interface RawRow {
  id: string;
  type: string;
  schema_version: number;
  occurred_at: string;
  received_at: string;
  account_id: string | null;
  lead_id: string | null;
  subject: SignalSubjectInput;
  data: Record<string, unknown>;
  metric: number | null;
  source: string;
}

const RAW_COLUMNS = {
  id: 'text',
  type: 'text',
  schema_version: 'int',
  occurred_at: 'timestamptz',
  received_at: 'timestamptz',
  account_id: 'text',
  lead_id: 'text',
  subject: 'jsonb',
  data: 'jsonb',
  metric: 'numeric',
  source: 'text',
};

/** The same columns as `signals`, with only a primary key: no foreign keys, no secondary index. */
const rawTableSql = (name: string) => `CREATE TABLE ${name} (
  id text PRIMARY KEY, type text NOT NULL, schema_version int NOT NULL, occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(), account_id text, lead_id text, subject jsonb NOT NULL, data jsonb NOT NULL,
  metric numeric, source text)`;

function metricOf(s: BenchSignal): number | null {
  const d = s.data;
  switch (s.type) {
    case 'usage':
      return d.quantity as number;
    case 'payment_failed':
      return d.amount as number;
    case 'nps':
      return d.score as number;
    case 'web_visit':
      return d.durationSeconds as number;
    case 'support_ticket':
      return scoreSentiment(`${String(d.subject)} ${String(d.text)}`).score;
    default:
      return null;
  }
}

function rawRows(customers: Customer[], n: number, prefix: string): RawRow[] {
  const factory = new SignalFactory(SEED, customers, prefix, Date.now());
  const receivedAt = new Date().toISOString();
  const rows: RawRow[] = [];
  for (let i = 0; i < n; i++) {
    const { signal, accountId } = factory.next();
    rows.push({
      id: signal.id,
      type: signal.type,
      schema_version: 1,
      occurred_at: signal.occurredAt,
      received_at: receivedAt,
      account_id: accountId,
      lead_id: null,
      subject: signal.subject,
      data: signal.data,
      metric: metricOf(signal),
      source: signal.source,
    });
  }
  return rows;
}

const ROW_INSERT = (table: string) =>
  `INSERT INTO ${table} (id, type, schema_version, occurred_at, received_at, account_id, lead_id, subject, data, metric, source)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10, $11)`;

const rowParams = (r: RawRow): unknown[] => [
  r.id,
  r.type,
  r.schema_version,
  r.occurred_at,
  r.received_at,
  r.account_id,
  r.lead_id,
  JSON.stringify(r.subject),
  JSON.stringify(r.data),
  r.metric,
  r.source,
];

export interface Rate {
  rows: number;
  seconds: number;
  perSecond: number;
}

const rate = (rows: number, seconds: number): Rate => ({ rows, seconds, perSecond: seconds > 0 ? rows / seconds : 0 });

/** (a) One INSERT statement per row, all inside one transaction. */
async function rawRowAtATime(db: Db, table: string, rows: RawRow[], maxSeconds: number): Promise<Rate> {
  const sql = ROW_INSERT(table);
  const start = performance.now();
  let done = 0;
  await db.transaction(async (tx) => {
    for (const r of rows) {
      await tx.query(sql, rowParams(r));
      done++;
      if ((done & 63) === 0 && performance.now() - start > maxSeconds * 1000) break;
    }
  });
  return rate(done, (performance.now() - start) / 1000);
}

/** (b) One `insertRows` statement per 1,000 rows, each its own (autocommitted) transaction, as intake commits per batch. */
async function rawSetBased(db: Db, table: string, rows: RawRow[], maxSeconds: number): Promise<Rate> {
  const start = performance.now();
  let done = 0;
  for (let i = 0; i < rows.length; i += SET_BATCH) {
    const chunk = rows.slice(i, i + SET_BATCH);
    await insertRows(db, table, RAW_COLUMNS, chunk);
    done += chunk.length;
    if (performance.now() - start > maxSeconds * 1000) break;
  }
  return rate(done, (performance.now() - start) / 1000);
}

async function measureRaw(db: Db, customers: Customer[], limits: Limits): Promise<{ rowAtATime: Rate; setBased: Rate }> {
  const rows = rawRows(customers, limits.rawRows, 'raw');
  // Warm-up on a scratch table so plans, catalogs and the JIT are hot.
  await db.exec(rawTableSql('bench_raw_warm'));
  await rawRowAtATime(db, 'bench_raw_warm', rawRows(customers, 200, 'warm-a'), limits.maxSeconds);
  await rawSetBased(db, 'bench_raw_warm', rawRows(customers, SET_BATCH, 'warm-b'), limits.maxSeconds);
  await db.exec('DROP TABLE bench_raw_warm');

  await db.exec(rawTableSql('bench_raw_a'));
  progress(`${db.kind}: raw (a) row-at-a-time insert, up to ${rows.length} rows`);
  const rowAtATime = await rawRowAtATime(db, 'bench_raw_a', rows, limits.maxSeconds);
  progress(`${db.kind}: raw (a) ${rowAtATime.rows} rows in ${rowAtATime.seconds.toFixed(2)} s = ${fmt(rowAtATime.perSecond)} rows/s`);

  await db.exec(rawTableSql('bench_raw_b'));
  progress(`${db.kind}: raw (b) set-based insert (${SET_BATCH} rows per insertRows), up to ${rows.length} rows`);
  const setBased = await rawSetBased(db, 'bench_raw_b', rows, limits.maxSeconds);
  progress(`${db.kind}: raw (b) ${setBased.rows} rows in ${setBased.seconds.toFixed(2)} s = ${fmt(setBased.perSecond)} rows/s`);

  await db.exec('DROP TABLE bench_raw_a; DROP TABLE bench_raw_b');
  return { rowAtATime, setBased };
}

// ---------------------------------------------------------------------------------------------
// End-to-end ingestion

export interface IngestResult {
  batchSize: number;
  batches: number;
  signals: number;
  seconds: number;
  /** Of `seconds`, the time spent in the final `bus.drain()` after the last batch committed. */
  drainSeconds: number;
  perSecond: number;
  ratioRowAtATime: number;
  ratioSetBased: number;
}

function checkOutcome(outcome: IntakeOutcome, expected: number, batchSize: number): void {
  if (outcome.rejected.length || outcome.duplicates.length || outcome.accepted.length !== expected) {
    const first = outcome.rejected[0];
    throw new Error(
      `batch of ${batchSize}: expected ${expected} accepted, got ${outcome.accepted.length} accepted, ` +
        `${outcome.duplicates.length} duplicates, ${outcome.rejected.length} rejected` +
        (first ? ` (first rejection: ${JSON.stringify(first.issues)})` : ''),
    );
  }
}

async function ingestBatch(db: Db, bus: OutboxBus, items: BenchSignal[], batchSize: number): Promise<number> {
  const outcome = await ingestSignals(
    db,
    items.map((v) => ({ value: v })),
    { actor: 'bench', source: 'bench' },
  );
  bus.notify();
  checkOutcome(outcome, items.length, batchSize);
  return outcome.accepted.length;
}

async function measureIngest(
  db: Db,
  bus: OutboxBus,
  factory: SignalFactory,
  batchSize: number,
  limits: Limits,
): Promise<{ result: Omit<IngestResult, 'ratioRowAtATime' | 'ratioSetBased'>; accepted: number }> {
  let accepted = 0;
  for (let i = 0; i < (limits.warmupBatches[batchSize] ?? 1); i++)
    accepted += await ingestBatch(db, bus, factory.batch(batchSize), batchSize);
  await bus.drain();

  const maxSignals = limits.maxSignals[batchSize] ?? 20_000;
  // Payloads are generated before the clock starts: the benchmark times the system, not the generator.
  const batches: BenchSignal[][] = [];
  for (let n = 0; n < maxSignals; n += batchSize) batches.push(factory.batch(Math.min(batchSize, maxSignals - n)));

  progress(`${db.kind}: ingest batch=${batchSize}, up to ${maxSignals} signals or ${limits.maxSeconds} s`);
  const start = performance.now();
  let signals = 0;
  let count = 0;
  for (const items of batches) {
    signals += await ingestBatch(db, bus, items, batchSize);
    count++;
    if (performance.now() - start > limits.maxSeconds * 1000) break;
  }
  const beforeDrain = performance.now();
  await bus.drain();
  const end = performance.now();
  accepted += signals;
  const seconds = (end - start) / 1000;
  const result = { batchSize, batches: count, signals, seconds, drainSeconds: (end - beforeDrain) / 1000, perSecond: signals / seconds };
  progress(
    `${db.kind}: ingest batch=${batchSize}: ${signals} signals in ${seconds.toFixed(2)} s (final drain ${result.drainSeconds.toFixed(2)} s) = ${fmt(result.perSecond)} signals/s`,
  );
  return { result, accepted };
}

// ---------------------------------------------------------------------------------------------
// One backend

export interface BackendReport {
  backend: BackendName;
  customers: number;
  raw: { rowAtATime: Rate; setBased: Rate };
  ingest: IngestResult[];
  target: {
    batchSize: number;
    threshold: number;
    ratioRowAtATime: number;
    ratioSetBased: number;
    metVsRowAtATime: boolean;
    metVsSetBased: boolean;
  };
  checks: {
    signalsStored: number;
    signalsAccepted: number;
    outboxPending: number;
    customerFeatures: number;
    ledgerOk: boolean;
    ledgerEntries: number;
    ledgerProblem?: string;
    /** Entries the sequencer had still to chain after the timed runs, and how fast it chained them. */
    sequencer: { pending: number; seconds: number; perSecond: number };
  };
}

/** Raw baselines, then ingestion at each batch size (`batchSizes` must include 1,000, the size the target is read at). */
export async function runBackend(
  db: Db,
  backend: BackendName,
  limits: Limits,
  batchSizes: readonly number[] = BATCH_SIZES,
): Promise<BackendReport> {
  progress(`${backend}: migrating`);
  await migrate(db);
  const customers = makeCustomers(limits.customers);
  progress(`${backend}: seeding ${customers.length} customers (accounts, contacts, identities)`);
  await seedCustomers(db, customers);

  const raw = await measureRaw(db, customers, limits);

  const bus = new OutboxBus(db);
  // Intake through features: the agents' stages are the decide benches' business.
  subscribePipeline(bus, { until: 'features' });
  const factory = new SignalFactory(SEED, customers, 'sig', Date.now());
  const ingest: IngestResult[] = [];
  let accepted = 0;
  try {
    for (const size of batchSizes) {
      const m = await measureIngest(db, bus, factory, size, limits);
      accepted += m.accepted;
      ingest.push({
        ...m.result,
        ratioRowAtATime: m.result.perSecond / raw.rowAtATime.perSecond,
        ratioSetBased: m.result.perSecond / raw.setBased.perSecond,
      });
    }
    await bus.drain();
  } finally {
    await bus.stop();
  }

  progress(`${backend}: verifying (not timed)`);
  const [stored] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM signals');
  const [pending] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL');
  const [features] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_features');
  const { pending: unchained } = await ledgerLag(db);
  const sequenceStart = performance.now();
  await sequenceLedger(db);
  const sequenceSeconds = (performance.now() - sequenceStart) / 1000;
  const ledger = await verifyLedger(db);
  const checks = {
    signalsStored: stored?.n ?? 0,
    signalsAccepted: accepted,
    outboxPending: pending?.n ?? 0,
    customerFeatures: features?.n ?? 0,
    ledgerOk: ledger.ok,
    ledgerEntries: ledger.entries,
    ...(ledger.problem ? { ledgerProblem: ledger.problem } : {}),
    sequencer: { pending: unchained, seconds: sequenceSeconds, perSecond: sequenceSeconds > 0 ? unchained / sequenceSeconds : 0 },
  };
  if (checks.signalsStored !== accepted) throw new Error(`${backend}: ${accepted} signals accepted but ${checks.signalsStored} stored`);
  if (checks.outboxPending !== 0) throw new Error(`${backend}: ${checks.outboxPending} outbox events still pending after drain`);
  if (!ledger.ok) throw new Error(`${backend}: ledger verification failed: ${ledger.problem ?? 'unknown problem'}`);

  const big = ingest.find((r) => r.batchSize === 1000)!;
  return {
    backend,
    customers: customers.length,
    raw,
    ingest,
    target: {
      batchSize: 1000,
      threshold: TARGET_RATIO,
      ratioRowAtATime: big.ratioRowAtATime,
      ratioSetBased: big.ratioSetBased,
      metVsRowAtATime: big.ratioRowAtATime >= TARGET_RATIO,
      metVsSetBased: big.ratioSetBased >= TARGET_RATIO,
    },
    checks,
  };
}

// ---------------------------------------------------------------------------------------------
// Output

export function printReport(r: BackendReport, label: string): void {
  const out: string[] = [];
  out.push('', `=== ${label} ===`, `customers seeded: ${r.customers}`, '');
  out.push('Raw insert rate of this database (bare table, same columns and payloads as `signals`, primary key only):');
  out.push(
    `  (a) row-at-a-time raw insert: ${fmt(r.raw.rowAtATime.perSecond)} rows/s  (${r.raw.rowAtATime.rows} rows, one INSERT per row, one transaction, ${r.raw.rowAtATime.seconds.toFixed(2)} s)`,
  );
  out.push(
    `  (b) set-based raw insert:     ${fmt(r.raw.setBased.perSecond)} rows/s  (${r.raw.setBased.rows} rows, one insertRows per ${SET_BATCH}, ${r.raw.setBased.seconds.toFixed(2)} s)`,
  );
  out.push('', 'End-to-end ingestion (validate, match, store, ledger, features via outbox; time includes the final bus.drain()):');
  out.push(
    table(
      ['batch size', 'signals', 'seconds', 'signals/s', 'ratio vs raw (a) row-at-a-time', 'ratio vs raw (b) set-based'],
      r.ingest.map((x) => [
        String(x.batchSize),
        String(x.signals),
        x.seconds.toFixed(2),
        fmt(x.perSecond),
        `${x.ratioRowAtATime.toFixed(3)} (${pct(x.ratioRowAtATime)})`,
        `${x.ratioSetBased.toFixed(3)} (${pct(x.ratioSetBased)})`,
      ]),
    ),
  );
  const t = r.target;
  out.push('', `Target: ingestion >= ${pct(t.threshold)} of the raw insert rate for batches of ${t.batchSize}:`);
  out.push(`  vs (a) row-at-a-time raw insert: ${pct(t.ratioRowAtATime)} -> ${t.metVsRowAtATime ? 'MET' : 'NOT MET'}`);
  out.push(`  vs (b) set-based raw insert:     ${pct(t.ratioSetBased)} -> ${t.metVsSetBased ? 'MET' : 'NOT MET'}`);
  const c = r.checks;
  out.push(
    '',
    `Checks (not timed): signals stored ${c.signalsStored} = accepted ${c.signalsAccepted}; outbox pending ${c.outboxPending}; ` +
      `customer_features rows ${c.customerFeatures}; verifyLedger ${c.ledgerOk ? 'ok' : 'FAILED'}, ${c.ledgerEntries} entries`,
    `Ledger sequencer (off the timed path): ${c.sequencer.pending} entries waiting after the runs, chained in ` +
      `${c.sequencer.seconds.toFixed(2)} s = ${fmt(c.sequencer.perSecond)} entries/s`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const limits = opts.quick ? QUICK : FULL;
  const json: Record<string, unknown> = {
    quick: opts.quick,
    node: process.version,
    limits: { customers: limits.customers, maxSeconds: limits.maxSeconds, rawRows: limits.rawRows, maxSignals: limits.maxSignals },
    targetRatio: TARGET_RATIO,
  };
  const backends: Record<string, unknown> = {};
  let exitCode = 0;
  process.stdout.write(
    `ACS ingestion benchmark${opts.quick ? ' (--quick)' : ''}: backends=${opts.backend}, batch sizes ${BATCH_SIZES.join(', ')}\n`,
  );

  if (opts.backend !== 'postgres') {
    const db = await openPglite();
    try {
      const report = await runBackend(db, 'pglite', limits);
      printReport(report, 'PGlite (embedded, in memory)');
      backends.pglite = report;
    } finally {
      await db.close();
    }
  }

  if (opts.backend !== 'pglite') {
    const url = postgresUrl();
    const unreachable = await probePostgres(url);
    if (unreachable) {
      const reason = `cannot connect to ${redact(url)}: ${unreachable}`;
      process.stdout.write(`\n=== PostgreSQL ===\nPostgreSQL SKIPPED: ${reason} (set DATABASE_URL to benchmark a server)\n`);
      backends.postgres = { skipped: true, reason };
      // Only PostgreSQL was asked for and none was measured: that is a failure, not a skip.
      if (opts.backend === 'postgres') exitCode = 1;
    } else {
      await withPostgresSchema(url, async (db, label, version) => {
        const report = await runBackend(db, 'postgres', limits);
        printReport(report, label);
        backends.postgres = { ...report, serverVersion: version };
      });
    }
  }

  json.backends = backends;
  process.stdout.write(`\nBENCH_JSON ${JSON.stringify(json)}\n`);
  return exitCode;
}

// Runs only as a script, so a profiler or test can import the workload generator without starting a run.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
