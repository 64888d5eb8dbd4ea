import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverQueuedMessages, FileTransport } from '../src/act/index.ts';
import { createMetrics } from '../src/api/index.ts';
import { createTestApp, trouble, troubledCustomer, type TestApp } from './helpers.ts';

/** A gauge's value from a /metrics text; undefined when the series is missing. */
function gauge(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

// The gauges read from the database at scrape time, through the real HTTP app's /metrics.
describe('work-in-flight gauges on /metrics', () => {
  let t: TestApp;
  const scrape = async () => (await t.call('GET', '/metrics', { token: null })).text;
  beforeAll(async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
  });
  afterAll(() => t.close());

  it('shows plays by status, pending approvals and queued messages, at 0 on an empty database', async () => {
    const text = await scrape();
    for (const status of ['running', 'waiting', 'done', 'refused', 'gave_up']) expect(gauge(text, `acs_plays{status="${status}"}`)).toBe(0);
    expect(gauge(text, 'acs_approvals_pending')).toBe(0);
    expect(gauge(text, 'acs_messages_queued')).toBe(0);
    expect(gauge(text, 'acs_outbox_pending_events')).toBe(0);
  });

  it('moves when a credit waits for a human, and again when the human approves it', async () => {
    await troubledCustomer(t, 'GAUGE-1');
    expect((await t.call('POST', '/api/v1/signals', { body: trouble('GAUGE-1', 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();
    let text = await scrape();
    // The retention play has started: its first step (checking the approval its credit needs) is due.
    expect(gauge(text, 'acs_approvals_pending')).toBe(1);
    expect(gauge(text, 'acs_plays{status="running"}')).toBe(1);

    const [approval] = (await t.call('GET', '/api/v1/approvals?status=pending', { role: 'reviewer' })).body.data;
    expect((await t.call('POST', `/api/v1/approvals/${approval.id}/approve`, { role: 'reviewer', body: {} })).status).toBe(200);
    expect(gauge(await scrape(), 'acs_approvals_pending')).toBe(0);
  });

  it('counts a message as queued until the transport takes it', async () => {
    // A lead who ticked the sales-email box: the nurture email is executed at once and queued.
    const lead = {
      id: 'gauge-lf-1',
      type: 'lead_form',
      version: 2,
      subject: { email: 'gauge@initech.example' },
      data: { firstName: 'Ann', email: 'gauge@initech.example', formId: 'demo', consents: [{ channel: 'email', purpose: 'sales' }] },
    };
    expect((await t.call('POST', '/api/v1/signals', { body: [lead], role: 'agent' })).status).toBe(202);
    await t.bus.drain();
    expect(gauge(await scrape(), 'acs_messages_queued')).toBe(1);
    const dir = mkdtempSync(join(tmpdir(), 'acs-gauges-'));
    try {
      await deliverQueuedMessages(t.db, new FileTransport(join(dir, 'messages.jsonl')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(gauge(await scrape(), 'acs_messages_queued')).toBe(0);
  });

  it('shows the stream backlog and the ledger sequencer lag when their owners supply them, and leaves the stream out on the embedded bus', async () => {
    const without = await scrape();
    // The server supplies the ledger's lag always.
    expect(without).toMatch(/acs_ledger_unsequenced_entries \d+/);
    // The embedded bus has no stream; on NATS the server reports each stage's consumer.
    if (process.env.ACS_NATS_URL) expect(without).toMatch(/acs_stream_backlog_messages\{consumer="signals\.accepted"\}/);
    else expect(without).not.toMatch(/acs_stream_backlog_messages/);
    const metrics = createMetrics({
      streamBacklog: async () => ({ features: 3, decide: 0 }),
      ledgerLag: async () => ({ pending: 12, oldestSeconds: 0.5 }),
    });
    const text = await metrics.registry.metrics();
    expect(gauge(text, 'acs_stream_backlog_messages{consumer="features"}')).toBe(3);
    expect(gauge(text, 'acs_stream_backlog_messages{consumer="decide"}')).toBe(0);
    expect(gauge(text, 'acs_ledger_unsequenced_entries')).toBe(12);
    expect(gauge(text, 'acs_ledger_sequencer_lag_seconds')).toBe(0.5);
  });
});
