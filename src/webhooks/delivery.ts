import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../contracts/api/index.ts';
import { readLedgerHead, readLedgerPage, type LedgerRow } from '../ledger/index.ts';
import { newId, type Db } from '../store/index.ts';
import { signedHeaders } from './signing.ts';
import {
  claimDue,
  insertDeliveries,
  moveCursor,
  recordAttempt,
  selectCursor,
  selectEnabledEndpoints,
  tryReaderLock,
  type ClaimedDelivery,
} from './webhooks.repo.ts';

// Any fixed number (with the schema as second key): one ledger reader at a time.
const READER_LOCK = 730_037;
/** Ledger entries read per round. */
export const READ_BATCH = 1000;

export interface DeliveryOptions {
  /** Attempts before a delivery is `failed` (a replay starts it afresh). Default 8. */
  maxAttempts: number;
  /** The wait after the first failed attempt; it doubles after each, up to `backoffMaxMs`, less up to half at random. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Each HTTP call is abandoned after this long (counts as a failed attempt). */
  timeoutMs: number;
  /** Deliveries claimed per round, and sent at most this many at a time. */
  batch: number;
  concurrency: number;
  /** The time deliveries are signed and scheduled by (default: the system's). */
  now: () => Date;
  /** The HTTP client (default: the global fetch). */
  fetch: typeof fetch;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  maxAttempts: 8,
  backoffBaseMs: 30_000,
  backoffMaxMs: 4 * 3600_000,
  timeoutMs: 10_000,
  batch: 100,
  concurrency: 8,
  now: () => new Date(),
  fetch: (...args) => fetch(...args),
};

const CATALOG = new Set<string>(WEBHOOK_EVENT_TYPES);

/** The webhook events one ledger entry makes: its own type when in the catalog, and `approval.requested` for a decision to wait for a human. */
function eventsOf(row: LedgerRow): { type: WebhookEventType; body: () => string }[] {
  if (!CATALOG.has(row.type)) return [];
  const entry = JSON.parse(row.body) as { data: Record<string, unknown> };
  const timestamp = new Date(row.ts).toISOString();
  const body = (type: string, subjectType: string | null, subjectId: string | null) => () =>
    JSON.stringify({
      type,
      timestamp,
      data: { ledgerSeq: row.seq, ledgerType: row.type, actor: row.actor, subjectType, subjectId, details: entry.data ?? {} },
    });
  const events = [{ type: row.type as WebhookEventType, body: body(row.type, row.subject_type, row.subject_id) }];
  const approvalId = entry.data?.approvalId;
  if (row.type === 'policy.decided' && typeof approvalId === 'string')
    events.push({ type: 'approval.requested', body: body('approval.requested', 'approvals', approvalId) });
  return events;
}

/**
 * One round of the ledger reader: the chained entries after the cursor become deliveries to the enabled endpoints
 * that asked for their type, and the cursor moves past them, in one transaction. A crash rolls both back, and the
 * next round reads the same entries again; a delivery already written is not written twice. Resolves to how many
 * entries it read, or null when another process is reading.
 */
export async function readLedgerRound(db: Db, now: Date, batch = READ_BATCH): Promise<{ read: number; queued: number } | null> {
  return db.transaction(async (tx) => {
    if (!(await tryReaderLock(tx, READER_LOCK))) return null;
    const cursor = await selectCursor(tx);
    if (cursor === undefined) return { read: 0, queued: 0 };
    const endpoints = await selectEnabledEndpoints(tx);
    if (endpoints.length === 0) {
      // Nothing to deliver to: skip to the head rather than read entries nobody asked for.
      const head = (await readLedgerHead(tx))?.seq ?? 0;
      await moveCursor(tx, head);
      return { read: 0, queued: 0 };
    }
    const rows = await readLedgerPage(tx, cursor + 1, batch);
    if (rows.length === 0) return { read: 0, queued: 0 };
    const deliveries = [];
    for (const row of rows) {
      const events = eventsOf(row);
      for (const event of events) {
        const body = event.body();
        for (const e of endpoints) {
          if (row.seq <= e.from_seq || !e.event_types.includes(event.type)) continue;
          deliveries.push({ id: newId('msg'), endpoint_id: e.id, event_type: event.type, ledger_seq: row.seq, body, created_at: now });
        }
      }
    }
    const queued = await insertDeliveries(tx, deliveries);
    await moveCursor(tx, rows[rows.length - 1]!.seq);
    return { read: rows.length, queued };
  });
}

/** The wait before attempt `attempts + 1`: exponential, capped, with up to half taken off at random (jitter). */
export function backoffMs(attempts: number, opts: Pick<DeliveryOptions, 'backoffBaseMs' | 'backoffMaxMs'>, random = Math.random): number {
  const full = Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** What one attempt got: the HTTP status (null when none came) and, when it failed, why. */
async function attempt(
  d: ClaimedDelivery,
  opts: DeliveryOptions,
): Promise<{ ok: boolean; statusCode: number | null; error: string | null }> {
  const headers = {
    ...signedHeaders(d.secret, d.id, d.body, opts.now()),
    'content-type': 'application/json',
    'user-agent': 'ACS-Webhooks/1',
  };
  try {
    const res = await opts.fetch(d.url, {
      method: 'POST',
      headers,
      body: d.body,
      // A redirect is an answer like any other non-2xx: the signed body is not sent on to another address.
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
    // The receiver's answer is not kept; reading it frees the connection.
    await res.body?.cancel().catch(() => undefined);
    const ok = res.status >= 200 && res.status < 300;
    return { ok, statusCode: res.status, error: ok ? null : `the endpoint answered ${res.status}` };
  } catch (err) {
    const e = err as Error;
    const error = e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : `could not reach the endpoint: ${e.message}`;
    return { ok: false, statusCode: null, error: error.slice(0, 500) };
  }
}

export interface SendTally {
  sent: number;
  delivered: number;
  retrying: number;
  failed: number;
}

/**
 * One round of the sender: claims due deliveries and sends each, signed at the time of sending. A 2xx answer
 * delivers it; anything else (another status, a timeout, no connection) schedules the next attempt with backoff,
 * or after `maxAttempts` marks it `failed`.
 */
export async function sendRound(db: Db, options: Partial<DeliveryOptions> = {}): Promise<SendTally> {
  const opts = { ...DEFAULT_DELIVERY_OPTIONS, ...options };
  const now = opts.now();
  // The claim outlasts the slowest send, so no other process picks a delivery up while it is under way.
  const until = new Date(now.getTime() + opts.timeoutMs * Math.ceil(opts.batch / opts.concurrency) + 60_000);
  const claimed = await db.transaction((tx) => claimDue(tx, now, until, opts.batch));
  const tally: SendTally = { sent: 0, delivered: 0, retrying: 0, failed: 0 };
  for (let i = 0; i < claimed.length; i += opts.concurrency) {
    await Promise.all(
      claimed.slice(i, i + opts.concurrency).map(async (d) => {
        const result = await attempt(d, opts);
        const at = opts.now();
        const attempts = d.attempts + 1;
        const status = result.ok ? 'delivered' : attempts >= opts.maxAttempts ? 'failed' : 'pending';
        const nextAttemptAt = status === 'pending' ? new Date(at.getTime() + backoffMs(attempts, opts)) : null;
        await recordAttempt(db, d.id, { status, at, nextAttemptAt, statusCode: result.statusCode, error: result.error });
        tally.sent += 1;
        if (status === 'delivered') tally.delivered += 1;
        else if (status === 'failed') tally.failed += 1;
        else tally.retrying += 1;
      }),
    );
  }
  return tally;
}

/** One pass: the ledger read up to its head (bounded), then every due delivery sent (bounded). */
export async function webhookPass(db: Db, options: Partial<DeliveryOptions> = {}, maxRounds = 10): Promise<SendTally & { queued: number }> {
  const now = (options.now ?? DEFAULT_DELIVERY_OPTIONS.now)();
  let queued = 0;
  for (let round = 0; round < maxRounds; round++) {
    const r = await readLedgerRound(db, now);
    if (!r) break;
    queued += r.queued;
    if (r.read < READ_BATCH) break;
  }
  const total: SendTally = { sent: 0, delivered: 0, retrying: 0, failed: 0 };
  const batch = options.batch ?? DEFAULT_DELIVERY_OPTIONS.batch;
  for (let round = 0; round < maxRounds; round++) {
    const t = await sendRound(db, options);
    total.sent += t.sent;
    total.delivered += t.delivered;
    total.retrying += t.retrying;
    total.failed += t.failed;
    if (t.sent < batch) break;
  }
  return { ...total, queued };
}

/**
 * Runs a pass every `intervalMs` (passes never overlap) until stopped; stopping waits for the pass under way. Any
 * number of processes may run it: one reads the ledger at a time (an advisory lock), and each delivery is claimed by
 * one sender. Errors go to `onError` and the timer goes on.
 */
export function startWebhookWorker(
  db: Db,
  opts: { intervalMs: number; onError: (err: unknown) => void; delivery?: Partial<DeliveryOptions> },
): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = webhookPass(db, opts.delivery)
        .then(() => undefined, opts.onError)
        .finally(schedule);
    }, opts.intervalMs);
    timer.unref?.();
  };
  schedule();
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
