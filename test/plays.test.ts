import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  approve,
  cancelPlay,
  executeInTransaction,
  playRegistry,
  recordDecision,
  reject,
  retentionPlay,
  runDuePlays,
  startPlay,
  type PlayDefinition,
  type RetentionPlayState,
} from '../src/act/index.ts';
import { PolicyGate, recordProposal } from '../src/assure/index.ts';
import { createRecord } from '../src/records/index.ts';
import type { Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

let db: Db;
let gate: PolicyGate;
let accountId: string;
let unconsented: string;
const T0 = new Date('2026-06-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

beforeAll(async () => {
  db = await openTestDb();
  gate = PolicyGate.load();
  accountId = (await createRecord(db, 'accounts', { name: 'Play Co', customerId: 'PLAY-1' }, 'test')).id;
  // The notice is decided on the consent in effect when it goes: PLAY-1 agreed to service email, PLAY-2 did not.
  const contactId = (await createRecord(db, 'contacts', { accountId, email: 'play@example.com' }, 'test')).id;
  await createRecord(
    db,
    'consents',
    {
      contactId,
      channel: 'email',
      purpose: 'service',
      status: 'granted',
      source: 'test',
      capturedAt: '2026-01-01T00:00:00Z',
      effectiveFrom: '2026-01-01T00:00:00Z',
    },
    'test',
  );
  unconsented = (await createRecord(db, 'accounts', { name: 'Quiet Co', customerId: 'PLAY-2' }, 'test')).id;
});
afterAll(async () => db.close());

const state = (over: Partial<RetentionPlayState> = {}): RetentionPlayState => ({
  agent: { id: 'retention', offerAutonomy: 4, notifyAutonomy: 4 },
  customer: { id: 'PLAY-1', segment: 'consumer', region: 'US', inHoldout: false },
  amountCents: 2000,
  ev: { value: 42 },
  reason: 'usage fell by half and a payment failed',
  ...over,
});
const playRow = async (id: string) =>
  (
    await db.query<{
      status: string;
      step: string;
      attempts: number;
      state: { data: RetentionPlayState; completed: string[] };
      next_run_at: Date;
    }>('SELECT * FROM plays WHERE id = $1', [id])
  )[0]!;
const credits = async (status = 'applied') =>
  (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM credits WHERE status = $1', [status]))[0]!.n;

describe('retention play', () => {
  const registry = () => playRegistry(retentionPlay(gate, { approvalPollMs: 1000 }));

  it('runs offer → credit → notice to the end, once', async () => {
    const before = await credits();
    const id = await startPlay(db, retentionPlay(gate), { accountId, state: state(), actor: 'test', now: T0 });
    await runDuePlays(db, registry(), { actor: 'test', now: T0 });
    const row = await playRow(id);
    expect(row).toMatchObject({ status: 'done', step: 'notify_customer' });
    expect(row.state.completed).toEqual(['propose_offer', 'apply_credit', 'notify_customer']);
    expect(row.state.data.notice).toBe('queued');
    expect(await credits()).toBe(before + 1);
    expect((await runDuePlays(db, registry(), { actor: 'test', now: at(10_000) })).steps).toBe(0);
    expect(await credits()).toBe(before + 1);
  });

  it('waits for a reviewer at L3, then goes on when approved', async () => {
    const before = await credits();
    const id = await startPlay(db, retentionPlay(gate), {
      accountId,
      state: state({ agent: { id: 'retention', offerAutonomy: 3, notifyAutonomy: 4 } }),
      actor: 'test',
      now: T0,
    });
    await runDuePlays(db, registry(), { actor: 'test', now: T0 });
    const waiting = await playRow(id);
    expect(waiting).toMatchObject({ status: 'waiting', step: 'await_approval' });
    expect(await credits()).toBe(before);
    await approve(db, gate, waiting.state.data.offer!.approvalId!, { actor: 'reviewer:ann', now: at(1000) });
    await runDuePlays(db, registry(), { actor: 'test', now: at(2000) });
    expect((await playRow(id)).status).toBe('done');
    expect(await credits()).toBe(before + 1);
  });

  it('cancelled while it waits for a reviewer: its approval is withdrawn, and approving it later runs nothing', async () => {
    const before = await credits();
    const id = await startPlay(db, retentionPlay(gate), {
      accountId,
      state: state({ agent: { id: 'retention', offerAutonomy: 3, notifyAutonomy: 4 } }),
      actor: 'test',
      now: T0,
    });
    await runDuePlays(db, registry(), { actor: 'test', now: T0 });
    const approvalId = (await playRow(id)).state.data.offer!.approvalId!;
    await cancelPlay(db, id, { actor: 'admin:ann', reason: 'the customer asked us to stop', now: at(500) });
    const [approval] = await db.query<{ status: string; decided_by: string; reason: string }>(
      'SELECT status, decided_by, reason FROM approvals WHERE id = $1',
      [approvalId],
    );
    expect(approval).toEqual({ status: 'expired', decided_by: 'admin:ann', reason: `withdrawn: play ${id} was cancelled` });
    await expect(approve(db, gate, approvalId, { actor: 'reviewer:ann', now: at(1000) })).rejects.toMatchObject({
      code: 'approval.already_decided',
    });
    await runDuePlays(db, registry(), { actor: 'test', now: at(2000) });
    expect((await playRow(id)).status).toBe('refused');
    expect(await credits()).toBe(before);
    const ledger = await db.query<{ type: string }>(
      "SELECT type FROM ledger WHERE subject_id IN ($1, $2) AND type IN ('play.cancelled', 'approval.withdrawn') ORDER BY seq",
      [id, approvalId],
    );
    expect(ledger.map((e) => e.type).sort()).toEqual(['approval.withdrawn', 'play.cancelled']);
  });

  it('stops when the reviewer rejects, when policy denies, and for a held-out customer', async () => {
    const before = await credits();
    const rejected = await startPlay(db, retentionPlay(gate), {
      accountId,
      state: state({ agent: { id: 'retention', offerAutonomy: 3, notifyAutonomy: 4 } }),
      actor: 'test',
      now: T0,
    });
    await runDuePlays(db, registry(), { actor: 'test', now: T0 });
    await reject(db, (await playRow(rejected)).state.data.offer!.approvalId!, {
      actor: 'reviewer:ann',
      reason: 'already on a discount',
      now: at(1000),
    });
    await runDuePlays(db, registry(), { actor: 'test', now: at(2000) });
    expect((await playRow(rejected)).status).toBe('refused');

    const denied = await startPlay(db, retentionPlay(gate), {
      accountId,
      state: state({ agent: { id: 'retention', offerAutonomy: 1, notifyAutonomy: 4 } }),
      actor: 'test',
      now: T0,
    });
    const heldOut = await startPlay(db, retentionPlay(gate), {
      accountId,
      state: state({ customer: { id: 'PLAY-1', segment: 'consumer', region: 'US', inHoldout: true } }),
      actor: 'test',
      now: T0,
    });
    await runDuePlays(db, registry(), { actor: 'test', now: at(3000) });
    expect((await playRow(denied)).status).toBe('refused');
    expect((await playRow(heldOut)).status).toBe('refused');
    expect(await db.query("SELECT 1 FROM proposals WHERE status = 'held_out' AND account_id = $1", [accountId])).toHaveLength(1);
    expect(await credits()).toBe(before);
  });

  it('waits, without failing or giving up, while its agent is paused, and goes on once it is resumed', async () => {
    const before = await credits();
    const id = await startPlay(db, retentionPlay(gate), { accountId, state: state(), actor: 'test', now: T0 });
    await db.query("INSERT INTO agent_settings (agent_id, paused) VALUES ('retention', true)");
    await runDuePlays(db, registry(), { actor: 'test', now: T0 });
    expect(await playRow(id)).toMatchObject({ status: 'waiting', step: 'apply_credit', attempts: 0 });
    expect(await credits()).toBe(before);
    await db.query("UPDATE agent_settings SET paused = false WHERE agent_id = 'retention'");
    await runDuePlays(db, registry(), { actor: 'test', now: at(2000) });
    expect((await playRow(id)).status).toBe('done');
    expect(await credits()).toBe(before + 1);
  });

  it('skips the notice, without failing, when there is no consent', async () => {
    const id = await startPlay(db, retentionPlay(gate), {
      accountId: unconsented,
      state: state({ customer: { id: 'PLAY-2', segment: 'consumer', region: 'US', inHoldout: false } }),
      actor: 'test',
      now: T0,
    });
    await runDuePlays(db, registry(), { actor: 'test', now: T0 });
    const row = await playRow(id);
    expect(row.status).toBe('done');
    expect(row.state.data.notice).toMatch(/^not sent: .*consent/);
  });
});

describe('play engine', () => {
  /** A play whose second step fails `failUntil` times, after the first step applied a real credit. */
  function flaky(failUntil: number): PlayDefinition<{ decisionId: string; key?: string; tries: number }> {
    let calls = 0;
    return {
      kind: `flaky-${failUntil}`,
      first: 'credit',
      maxAttempts: 3,
      backoffMs: (n) => 1000 * 2 ** n,
      steps: {
        credit: {
          run: async (tx, play, s) => {
            const key = `flaky:${play.id}`;
            await executeInTransaction(tx, { decisionId: s.decisionId, idempotencyKey: key, actor: 'test' });
            return { next: 'after', state: { ...s, key } };
          },
          compensate: async (tx, _play, s) => {
            await tx.query("UPDATE credits SET status = 'reversed' WHERE execution_key = $1", [s.key]);
          },
        },
        after: {
          run: async (tx, play, s) => {
            calls += 1;
            // The effect below is in the step's transaction: a failure after it must leave no trace.
            await tx.query("INSERT INTO tasks (id, account_id, title) VALUES ($1, $2, 'after')", [
              `task_${play.id}_${calls}`,
              play.accountId,
            ]);
            if (calls <= failUntil) throw new Error(`downstream unavailable (call ${calls})`);
            return { done: true, state: { ...s, tries: calls } };
          },
        },
      },
    };
  }

  async function allowedCredit(): Promise<string> {
    return db.transaction(async (tx) => {
      const request = {
        agent: { id: 't', role: 'agent', autonomy: 4 },
        action: 'offer_credit' as const,
        customer: { id: 'PLAY-1', segment: 'c', region: 'US', inHoldout: false },
        context: { risk: 'low' as const, amountCents: 500 },
      };
      const proposalId = await recordProposal(tx, {
        agentId: 't',
        accountId,
        leadId: null,
        action: 'offer_credit',
        params: { amountCents: 500 },
        risk: 'low',
        ev: { value: 1 },
        reason: 'test',
      });
      return (await recordDecision(tx, proposalId, request, gate.decide(request))).decisionId;
    });
  }

  it('retries a failing step with growing backoff, and a failed attempt leaves no effect', async () => {
    const def = flaky(2);
    const id = await startPlay(db, def, { accountId, state: { decisionId: await allowedCredit(), tries: 0 }, actor: 'test', now: T0 });
    const registry = playRegistry(def);
    await runDuePlays(db, registry, { actor: 'test', now: T0 });
    let row = await db.query<{ attempts: number; next_run_at: Date; status: string }>(
      'SELECT attempts, next_run_at, status FROM plays WHERE id = $1',
      [id],
    );
    expect(row[0]).toMatchObject({ attempts: 1, status: 'running' });
    expect(new Date(row[0]!.next_run_at).getTime()).toBe(at(2000).getTime());
    expect((await runDuePlays(db, registry, { actor: 'test', now: at(1999) })).steps).toBe(0);
    await runDuePlays(db, registry, { actor: 'test', now: at(2000) });
    row = await db.query('SELECT attempts, next_run_at, status FROM plays WHERE id = $1', [id]);
    expect(new Date(row[0]!.next_run_at).getTime()).toBe(at(2000 + 4000).getTime());
    await runDuePlays(db, registry, { actor: 'test', now: at(6000) });
    expect((await db.query<{ status: string }>('SELECT status FROM plays WHERE id = $1', [id]))[0]!.status).toBe('done');
    const tasks = await db.query<{ id: string }>('SELECT id FROM tasks WHERE id LIKE $1', [`task_${id}_%`]);
    expect(tasks.map((t) => t.id)).toEqual([`task_${id}_3`]);
    expect(await db.query("SELECT 1 FROM credits WHERE execution_key = $1 AND status = 'applied'", [`flaky:${id}`])).toHaveLength(1);
  });

  it('gives up after the last attempt and compensates the steps already done', async () => {
    const def = flaky(99);
    const id = await startPlay(db, def, { accountId, state: { decisionId: await allowedCredit(), tries: 0 }, actor: 'test', now: T0 });
    const registry = playRegistry(def);
    let gaveUp = 0;
    for (const t of [0, 2000, 6000, 14_000]) gaveUp += (await runDuePlays(db, registry, { actor: 'test', now: at(t) })).gaveUp;
    expect(gaveUp).toBe(1);
    const [row] = await db.query<{ status: string; attempts: number; last_error: string }>(
      'SELECT status, attempts, last_error FROM plays WHERE id = $1',
      [id],
    );
    expect(row).toMatchObject({ status: 'gave_up', attempts: 3 });
    expect(row!.last_error).toContain('downstream unavailable');
    expect(await db.query("SELECT 1 FROM credits WHERE execution_key = $1 AND status = 'reversed'", [`flaky:${id}`])).toHaveLength(1);
    expect(await db.query("SELECT 1 FROM ledger WHERE type = 'play.gave_up' AND subject_id = $1", [id])).toHaveLength(1);
  });
});
