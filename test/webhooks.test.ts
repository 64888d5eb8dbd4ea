import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendToLedger, sequenceLedger } from '../src/ledger/index.ts';
import { backoffMs, startWebhookWorker, webhookPass, type DeliveryOptions } from '../src/webhooks/index.ts';
import { createTestApp, type ResponseBody, type TestApp } from './helpers.ts';

/**
 * The receiver's own verifier, written from the Standard Webhooks specification and independent of the signer in
 * src/webhooks: HMAC-SHA256 of `${id}.${timestamp}.${body}` keyed by the secret's base64 after `whsec_`, compared in
 * constant time with each `v1,` signature of the header, and a timestamp within the tolerance of `now`.
 */
function verify(secret: string, headers: Record<string, string | undefined>, body: string, now: Date, toleranceSeconds = 300): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures || !/^\d+$/.test(timestamp)) return false;
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  if (!secret.startsWith('whsec_')) return false;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((s) => {
    const [version, b64] = s.split(',');
    if (version !== 'v1' || !b64) return false;
    const got = Buffer.from(b64, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

interface Received {
  path: string;
  headers: Record<string, string | undefined>;
  body: string;
  answered: number;
}

/** A receiver on loopback: /flaky fails its first `failFirst` requests with 503, /down always 500, /slow never answers. */
function startReceiver(failFirst: number) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  let flakyCalls = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : v]));
      const body = Buffer.concat(chunks).toString('utf8');
      if (path === '/slow') {
        received.push({ path, headers, body, answered: 0 });
        hanging.push(res);
        return;
      }
      const answered = path === '/down' ? 500 : path === '/flaky' && ++flakyCalls <= failFirst ? 503 : 204;
      received.push({ path, headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  return {
    received,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      ),
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hanging) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const FAIL_FIRST = 3;
let t: TestApp;
let receiver: ReturnType<typeof startReceiver>;
let base: string;
/** The sender's clock: the test moves it to each delivery's next attempt, so backoff is real but nobody waits. */
let now = new Date();
const opts = (extra: Partial<DeliveryOptions> = {}): Partial<DeliveryOptions> => ({
  now: () => now,
  backoffBaseMs: 60_000,
  backoffMaxMs: 3600_000,
  maxAttempts: 8,
  timeoutMs: 5_000,
  ...extra,
});

beforeAll(async () => {
  t = await createTestApp();
  receiver = startReceiver(FAIL_FIRST);
  base = await receiver.listen();
});
afterAll(async () => {
  await receiver.close();
  await t.close();
});

async function createEndpoint(path: string, eventTypes: string[]): Promise<{ id: string; secret: string }> {
  const res = await t.call('POST', '/api/v1/webhooks', { body: { url: `${base}${path}`, eventTypes, description: `receiver ${path}` } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function deliveries(endpointId: string): Promise<ResponseBody[]> {
  const res = await t.call('GET', `/api/v1/webhooks/${endpointId}/deliveries`);
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

/** Engages (or releases) the kill switch: a real route whose ledger entry (agents.kill_switch) is a webhook event. */
async function killSwitch(engaged: boolean): Promise<void> {
  const res = await t.call('POST', '/api/v1/agents/kill-switch', { body: engaged ? { engaged, reason: 'webhook test' } : { engaged } });
  expect(res.status, res.text).toBe(200);
  await sequenceLedger(t.db);
}

describe('signing and verifying', () => {
  it('the verifier accepts what the sender signs and rejects a tampered body, signature, secret or stale timestamp', async () => {
    const { id, secret } = await createEndpoint('/flaky', ['agents.kill_switch']);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice(6), 'base64').length).toBe(32);
    // Shown once: neither the endpoint nor the list gives it again.
    const got = await t.call('GET', `/api/v1/webhooks/${id}`);
    expect(got.status).toBe(200);
    expect(got.text).not.toContain(secret);
    expect(got.body.secret).toBeUndefined();
    const list = await t.call('GET', '/api/v1/webhooks');
    expect(list.text).not.toContain(secret);
    expect(list.body.data.map((e: { id: string }) => e.id)).toContain(id);

    await killSwitch(true);
    await webhookPass(t.db, opts({ maxAttempts: 1 }));
    const req = receiver.received.at(-1)!;
    expect(req.path).toBe('/flaky');
    expect(req.headers['content-type']).toBe('application/json');
    expect(verify(secret, req.headers, req.body, now)).toBe(true);
    // The check can fail: each of these is refused.
    const sig = req.headers['webhook-signature']!;
    const flipped = sig.slice(0, -4) + (sig.slice(-4, -3) === 'A' ? 'B' : 'A') + sig.slice(-3);
    expect(verify(secret, { ...req.headers, 'webhook-signature': flipped }, req.body, now)).toBe(false);
    expect(verify(secret, req.headers, req.body.replace('"engaged":true', '"engaged":false'), now)).toBe(false);
    expect(req.body).toContain('"engaged":true');
    expect(verify(secret, { ...req.headers, 'webhook-id': `${req.headers['webhook-id']}x` }, req.body, now)).toBe(false);
    expect(
      verify(secret, { ...req.headers, 'webhook-timestamp': String(Number(req.headers['webhook-timestamp']) + 1) }, req.body, now),
    ).toBe(false);
    const other = await createEndpoint('/down', ['policy.adopted']);
    expect(verify(other.secret, req.headers, req.body, now)).toBe(false);
    expect(verify(secret, req.headers, req.body, new Date(now.getTime() + 3600_000))).toBe(false);
    // Clean up for the next tests: this endpoint's flaky answers are counted there.
    for (const e of [id, other.id]) expect((await t.call('DELETE', `/api/v1/webhooks/${e}`)).status).toBe(204);
    receiver.received.length = 0;
  });
});

describe('delivery, retries with backoff, and replay', () => {
  it('retries a failing endpoint with growing, jittered waits under one webhook-id, then delivers; replay sends the same again', async () => {
    // The first FAIL_FIRST calls to /flaky: one was used above, by an endpoint now gone.
    const { id, secret } = await createEndpoint('/flaky', ['agents.kill_switch', 'agent.auto_paused']);
    const quiet = await createEndpoint('/flaky', ['policy.adopted']);
    await killSwitch(false);

    const waits: number[] = [];
    let log: ResponseBody[] = [];
    for (let pass = 0; pass < 10; pass++) {
      await webhookPass(t.db, opts());
      log = await deliveries(id);
      expect(log).toHaveLength(1);
      const d = log[0];
      if (d.status !== 'pending') break;
      expect(d.lastStatusCode).toBe(503);
      expect(d.lastError).toContain('503');
      waits.push(Date.parse(d.nextAttemptAt) - Date.parse(d.lastAttemptAt));
      now = new Date(Date.parse(d.nextAttemptAt) + 1);
    }
    const [d] = log;
    expect(d.status).toBe('delivered');
    expect(d.lastStatusCode).toBe(204);
    expect(d.nextAttemptAt).toBeNull();
    expect(d.deliveredAt).not.toBeNull();
    // One attempt failed above already (the deleted endpoint's), so /flaky still failed FAIL_FIRST - 1 of these.
    expect(d.attempts).toBe(FAIL_FIRST);
    expect(waits).toHaveLength(FAIL_FIRST - 1);
    // Exponential with jitter: attempt k waits between half and all of base·2^(k-1).
    waits.forEach((w, i) => {
      expect(w).toBeGreaterThanOrEqual((60_000 * 2 ** i) / 2);
      expect(w).toBeLessThanOrEqual(60_000 * 2 ** i);
    });
    expect(d.payload).toMatchObject({ type: 'agents.kill_switch', data: { subjectType: 'agents', details: { engaged: false } } });
    expect(d.eventType).toBe('agents.kill_switch');

    const sent = receiver.received.filter((r) => r.headers['webhook-id'] === d.id);
    expect(sent.map((r) => r.answered)).toEqual([503, 503, 204]);
    for (const r of sent) {
      expect(verify(secret, r.headers, r.body, now)).toBe(true);
      expect(JSON.parse(r.body)).toEqual(d.payload);
    }
    // Each attempt is signed at its own time.
    expect(new Set(sent.map((r) => r.headers['webhook-timestamp'])).size).toBe(sent.length);
    // The endpoint that did not ask for the kill switch got nothing.
    expect(await deliveries(quiet.id)).toEqual([]);

    // Replay: pending again with a fresh count, then sent under the same webhook-id, with the same body.
    const replay = await t.call('POST', `/api/v1/webhooks/${id}/deliveries/${d.id}/replay`);
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body).toMatchObject({ id: d.id, status: 'pending', attempts: 0 });
    await webhookPass(t.db, opts());
    const again = receiver.received.filter((r) => r.headers['webhook-id'] === d.id);
    expect(again).toHaveLength(sent.length + 1);
    const last = again.at(-1)!;
    expect(last.body).toBe(sent[0]!.body);
    expect(verify(secret, last.headers, last.body, now)).toBe(true);
    expect((await deliveries(id))[0]).toMatchObject({ id: d.id, status: 'delivered', attempts: 1 });

    const ledger = await t.call('GET', '/api/v1/ledger?type=webhook.replayed');
    expect(ledger.body.data[0]).toMatchObject({ subjectId: d.id, data: { endpointId: id, previousStatus: 'delivered' } });
  });

  it('gives up after the bounded attempts (failed, no next attempt); a timeout counts as a failed attempt', async () => {
    const down = await createEndpoint('/down', ['agents.kill_switch']);
    const slow = await createEndpoint('/slow', ['agents.kill_switch']);
    await killSwitch(true);
    for (let pass = 0; pass < 5; pass++) {
      await webhookPass(t.db, opts({ maxAttempts: 3, timeoutMs: 300 }));
      now = new Date(now.getTime() + 3600_000);
    }
    const [failed] = await deliveries(down.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 3, lastStatusCode: 500, nextAttemptAt: null, deliveredAt: null });
    expect(receiver.received.filter((r) => r.headers['webhook-id'] === failed.id)).toHaveLength(3);
    const [timedOut] = await deliveries(slow.id);
    expect(timedOut).toMatchObject({ status: 'failed', attempts: 3, lastStatusCode: null });
    expect(timedOut.lastError).toContain('no answer within 300 ms');
    // Gone, so the tests after this one do not wait on them.
    for (const e of [down.id, slow.id]) expect((await t.call('DELETE', `/api/v1/webhooks/${e}`)).status).toBe(204);
  });

  it('a decision that waits for approval sends policy.decided and approval.requested; events from before an endpoint are not sent', async () => {
    const before = await t.db.transaction((tx) =>
      appendToLedger(tx, [
        {
          type: 'policy.decided',
          actor: 'policy',
          subjectType: 'decisions',
          subjectId: 'dec_early',
          data: { outcome: 'execute' },
          at: new Date(),
        },
      ]),
    );
    expect(before.ids).toHaveLength(1);
    await sequenceLedger(t.db);
    const ep = await createEndpoint('/ok', ['policy.decided', 'approval.requested']);
    await t.db.transaction((tx) =>
      appendToLedger(tx, [
        {
          type: 'policy.decided',
          actor: 'policy',
          subjectType: 'decisions',
          subjectId: 'dec_1',
          data: { proposalId: 'prp_1', outcome: 'approval', approvalId: 'apr_1' },
          at: new Date(),
        },
      ]),
    );
    await sequenceLedger(t.db);
    await webhookPass(t.db, opts());
    const log = await deliveries(ep.id);
    expect(log.map((d: ResponseBody) => d.eventType).sort()).toEqual(['approval.requested', 'policy.decided']);
    expect(log.every((d: ResponseBody) => d.status === 'delivered')).toBe(true);
    const requested = log.find((d: ResponseBody) => d.eventType === 'approval.requested');
    expect(requested.payload.data).toMatchObject({ subjectType: 'approvals', subjectId: 'apr_1', ledgerType: 'policy.decided' });
    expect(log.some((d: ResponseBody) => d.payload.data.subjectId === 'dec_early')).toBe(false);
  });

  it('a paused endpoint gets nothing until enabled again', async () => {
    const ep = await createEndpoint('/ok', ['agents.kill_switch']);
    const paused = await t.call('PATCH', `/api/v1/webhooks/${ep.id}`, { body: { enabled: false } });
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body.enabled).toBe(false);
    await killSwitch(false);
    await webhookPass(t.db, opts());
    expect(await deliveries(ep.id)).toEqual([]);
    expect((await t.call('PATCH', `/api/v1/webhooks/${ep.id}`, { body: { enabled: true } })).status).toBe(200);
    await killSwitch(true);
    await webhookPass(t.db, opts());
    const log = await deliveries(ep.id);
    expect(log.map((d: ResponseBody) => [d.status, d.payload.data.details.engaged])).toEqual([['delivered', true]]);
  });

  it('the background worker delivers on its own and stops cleanly', async () => {
    const ep = await createEndpoint('/ok', ['agents.kill_switch']);
    const worker = startWebhookWorker(t.db, {
      intervalMs: 10,
      onError: (err) => expect.fail(String(err)),
      delivery: { now: () => new Date() },
    });
    try {
      await killSwitch(false);
      let log: ResponseBody[] = [];
      for (let i = 0; i < 500 && !(log[0]?.status === 'delivered'); i++) {
        await new Promise((r) => setTimeout(r, 20));
        log = await deliveries(ep.id);
      }
      expect(log).toHaveLength(1);
      expect(log[0].status).toBe('delivered');
    } finally {
      await worker.stop();
    }
  });
});

describe('endpoints: validation, admin only, ledger', () => {
  it('refuses a bad URL or event type, naming the field', async () => {
    const badUrl = await t.call('POST', '/api/v1/webhooks', { body: { url: 'ftp://example.org/x', eventTypes: ['policy.decided'] } });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.issues.map((e: { path: string }) => e.path)).toContain('url');
    const badType = await t.call('POST', '/api/v1/webhooks', { body: { url: `${base}/ok`, eventTypes: ['record.created'] } });
    expect(badType.status).toBe(400);
    expect(badType.body.issues.map((e: { path: string }) => e.path)).toContain('eventTypes.0');
    const none = await t.call('POST', '/api/v1/webhooks', { body: { url: `${base}/ok`, eventTypes: [] } });
    expect(none.status).toBe(400);
    const emptyPatch = await t.call('PATCH', '/api/v1/webhooks/whe_x', { body: {} });
    expect(emptyPatch.status).toBe(400);
    expect((await t.call('GET', '/api/v1/webhooks/whe_missing')).body.code).toBe('webhook.not_found');
  });

  it('only an admin may manage webhooks', async () => {
    for (const role of ['reviewer', 'analyst', 'agent'] as const) {
      const res = await t.call('POST', '/api/v1/webhooks', { role, body: { url: `${base}/ok`, eventTypes: ['policy.decided'] } });
      expect(res.status, role).toBe(403);
    }
  });

  it('creation and deletion are in the ledger, without the secret or the URL path', async () => {
    const ep = await createEndpoint('/ok?token=abc', ['policy.adopted']);
    expect((await t.call('DELETE', `/api/v1/webhooks/${ep.id}`)).status).toBe(204);
    expect((await t.call('GET', `/api/v1/webhooks/${ep.id}`)).status).toBe(404);
    expect((await t.call('DELETE', `/api/v1/webhooks/${ep.id}`)).status).toBe(404);
    const created = await t.call('GET', `/api/v1/ledger?type=webhook.created&subjectId=${ep.id}`);
    expect(created.body.data).toHaveLength(1);
    expect(created.body.data[0].data).toEqual({ origin: base, eventTypes: ['policy.adopted'] });
    expect(created.text).not.toContain(ep.secret);
    expect(created.text).not.toContain('token=abc');
    const deleted = await t.call('GET', `/api/v1/ledger?type=webhook.deleted&subjectId=${ep.id}`);
    expect(deleted.body.data).toHaveLength(1);
  });

  it('backoff doubles up to its cap, less up to half at random', () => {
    const o = { backoffBaseMs: 1000, backoffMaxMs: 5000 };
    expect([1, 2, 3, 4].map((a) => backoffMs(a, o, () => 1))).toEqual([1000, 2000, 4000, 5000]);
    expect([1, 2, 3, 4].map((a) => backoffMs(a, o, () => 0))).toEqual([500, 1000, 2000, 2500]);
  });
});
