import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deliverQueuedMessages,
  draftMessageBody,
  FileTransport,
  playRegistry,
  retentionPlay,
  runDuePlays,
  startPlay,
  TEXT_ABSTAINED_POLICY_ID,
  TEXT_GUARDRAILS_POLICY_ID,
} from '../src/act/index.ts';
import { PolicyGate } from '../src/assure/index.ts';
import { demoReviewDate, loadDemoKnowledge } from '../src/cli/demo-knowledge.ts';
import { answerQuestion, OpenAICompatibleProvider } from '../src/ground/index.ts';
import { getSource, importDocuments, searchKnowledge } from '../src/knowledge/index.ts';
import { createTestApp, ticketTrouble, troubledCustomer, type TestApp } from './helpers.ts';

// Issue 14, "outbound messages get a real body": the service-recovery notice that follows a support ticket's case is
// written from the knowledge base and the customer's facts, with citations; the approval card shows it; the transport
// sends exactly it; a body that fails a guardrail goes to a person, and one that abstains is not sent.

let t: TestApp | undefined;
let dir: string | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const later = () => new Date(Date.now() + 60_000);
const runPlays = (app: TestApp) => runDuePlays(app.db, app.plays, { actor: 'test', now: later() });

type Notice = {
  id: string;
  params: Record<string, unknown> & {
    body?: string;
    sentences?: { text: string; markers: string[] }[];
    citations?: { marker: string; chunkId: string; path?: string; headingPath?: string[] }[];
  };
};
const noticeOf = async (app: TestApp, accountId: string) => {
  const [row] = await app.db.query<Notice>(
    "SELECT id, params FROM proposals WHERE account_id = $1 AND agent_id = 'service-recovery' AND action = 'send_message'",
    [accountId],
  );
  return row!;
};
const decisionOf = async (app: TestApp, proposalId: string) =>
  (
    await app.db.query<{ outcome: string; policy_ids: string[]; reasons: string[] }>(
      'SELECT outcome, policy_ids, reasons FROM decisions WHERE proposal_id = $1',
      [proposalId],
    )
  )[0]!;
const messagesOf = (app: TestApp, accountId: string) =>
  app.db.query<{ id: string; body: string | null }>('SELECT id, body FROM messages WHERE account_id = $1', [accountId]);

async function ticketFor(app: TestApp, customerId: string) {
  const accountId = await troubledCustomer(app, customerId);
  await app.call('POST', '/api/v1/signals', { role: 'agent', body: ticketTrouble(customerId, 1) });
  await app.bus.drain();
  await runPlays(app);
  return accountId;
}

/** Sends what is queued through the file transport; returns the lines it wrote. */
async function sendQueued(app: TestApp): Promise<{ id: string; body: string | null }[]> {
  dir = mkdtempSync(join(tmpdir(), 'acs-transport-'));
  const file = join(dir, 'outbox.jsonl');
  await deliverQueuedMessages(app.db, new FileTransport(file));
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

describe('outbound messages get a grounded body with citations', () => {
  it('the service-recovery notice after a ticket is written from the demo knowledge base and sent exactly as written', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    await loadDemoKnowledge(t.db, new Date());
    const accountId = await ticketFor(t, 'MB-1');

    const notice = await noticeOf(t, accountId);
    const body = notice.params.body!;
    expect(body).toMatch(/^Hi|^Hello/);
    // What the customer reads carries no evidence markers and never ACS's own case subject ("Proactive check: …").
    expect(body).not.toMatch(/\[(\d+|C)\]/);
    expect(body).not.toMatch(/Proactive check|This is about your case/);
    // The contract term is stated as the contract, with the monthly amount: a customer fact.
    expect(body).toContain('You are on a month-to-month contract at $80.00 a month.');
    expect(body).not.toContain('Your current plan is month-to-month');
    // The evidence is beside the body: each citing sentence of the body with its markers.
    const evidence = notice.params.sentences!;
    expect(evidence).toContainEqual({ text: 'You are on a month-to-month contract at $80.00 a month.', markers: ['C'] });
    expect(evidence.some((x) => x.markers.includes('1'))).toBe(true);
    for (const x of evidence) expect(body).toContain(x.text);
    const named = new Set(notice.params.citations!.map((c) => c.marker));
    for (const x of evidence) for (const m of x.markers) expect(named).toContain(m);
    // Citations name demo knowledge chunks: the customer-facing documents only, with their heading paths.
    const passages = notice.params.citations!.filter((c) => c.chunkId !== 'customer-facts');
    expect(passages.length).toBeGreaterThan(0);
    for (const c of passages) {
      expect(['billing.md', 'cancellation.md', 'credits.md', 'outages.md', 'plans.md']).toContain(c.path);
      expect(c.headingPath!.length).toBeGreaterThan(0);
    }
    expect(await decisionOf(t, notice.id)).toMatchObject({ outcome: 'execute' });

    // What was queued, and what the transport wrote, is exactly that body.
    const [queued] = await messagesOf(t, accountId);
    expect(queued!.body).toBe(body);
    const sent = await sendQueued(t);
    expect(sent.find((m) => m.id === queued!.id)!.body).toBe(body);

    // The generation is ledgered against the proposal: ids and hashes, nothing personal.
    const entries = (await t.call('GET', `/api/v1/ledger?subjectId=${notice.id}`, { role: 'analyst' })).body.data;
    const entry = entries.find(
      (e: { type: string; subjectType: string }) => e.type === 'generation.created' && e.subjectType === 'proposals',
    );
    expect(entry.data).toMatchObject({ purpose: 'service_recovery', provider: 'embedded', abstained: false });
    expect(entry.data.citedChunkIds).toEqual(passages.map((c) => c.chunkId));
    const ledgered = JSON.stringify(entry.data);
    for (const personal of ['mb-1@example.com', 'Customer MB-1', '80.00', 'month-to-month', 'Proactive check', body.split('\n')[2]!])
      expect(ledgered).not.toContain(personal);
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('a notice that needs approval shows its body and cited passages on the approval card; approving sends that body', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    await loadDemoKnowledge(t.db, new Date());
    const l2 = await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { autonomy: { send_message: 2 }, reason: 'test' } });
    expect(l2.status, l2.text).toBe(200);
    const accountId = await ticketFor(t, 'MB-2');
    const notice = await noticeOf(t, accountId);
    expect(await decisionOf(t, notice.id)).toMatchObject({ outcome: 'approval' });
    expect(await messagesOf(t, accountId)).toEqual([]);

    const queue = await t.call('GET', '/api/v1/approvals', { role: 'reviewer' });
    expect(queue.status, queue.text).toBe(200);
    const card = queue.body.data.find((a: { proposal: { id: string } }) => a.proposal.id === notice.id);
    expect(card.proposal.message.body).toBe(notice.params.body);
    // The card shows each sentence's evidence beside the body, which carries none.
    expect(card.proposal.message.sentences).toEqual(notice.params.sentences);
    expect(card.proposal.message.sentences.length).toBeGreaterThan(0);
    expect(card.proposal.message.body).not.toMatch(/\[(\d+|C)\]/);
    expect(card.proposal.message.abstained).toBe(false);
    expect(card.proposal.message.blocked).toEqual([]);
    const cited = card.proposal.message.citations.filter((c: { chunkId: string }) => c.chunkId !== 'customer-facts');
    expect(cited.length).toBeGreaterThan(0);
    expect(cited[0]).toMatchObject({ marker: '1', path: expect.stringMatching(/\.md$/), headingPath: expect.any(Array) });

    const approved = await t.call('POST', `/api/v1/approvals/${card.id}/approve`, { role: 'reviewer' });
    expect(approved.status, approved.text).toBe(200);
    const [queued] = await messagesOf(t, accountId);
    expect(queued!.body).toBe(notice.params.body);
    const sent = await sendQueued(t);
    expect(sent.find((m) => m.id === queued!.id)!.body).toBe(notice.params.body);
  });

  it('a body with a prohibited claim never goes out on its own: it waits for a person, with the failed check as the reason', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    await importDocuments(
      t.db,
      { name: 'bad-faq', owner: 'test', audience: 'customer', reviewDate: '2099-12-31', approve: true },
      [
        {
          path: 'outages.md',
          format: 'md',
          content:
            '# Outages\n\n## Service disruption\n\nAfter an outage we restore your service and we guarantee it will never go down again.\n',
        },
      ],
      { actor: 'test', now: new Date() },
    );
    const accountId = await ticketFor(t, 'MB-3');
    const notice = await noticeOf(t, accountId);
    expect(notice.params.body).toMatch(/guarantee/);
    const decision = await decisionOf(t, notice.id);
    expect(decision.outcome).toBe('approval');
    expect(decision.policy_ids).toContain(TEXT_GUARDRAILS_POLICY_ID);
    expect(decision.reasons.join(' ')).toMatch(/generated body: prohibited-claims: /);
    expect(await messagesOf(t, accountId)).toEqual([]);
    const card = (await t.call('GET', '/api/v1/approvals', { role: 'reviewer' })).body.data.find(
      (a: { proposal: { id: string } }) => a.proposal.id === notice.id,
    );
    expect(card.proposal.message.blocked.join(' ')).toMatch(/^prohibited-claims: /);
  });

  it('with nothing relevant in the knowledge base the body abstains and the notice is not sent, with the reason', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    await importDocuments(
      t.db,
      { name: 'garden', owner: 'test', audience: 'customer', reviewDate: '2099-12-31', approve: true },
      [{ path: 'roses.md', format: 'md', content: '# Roses\n\n## Pruning\n\nPrune roses in late winter, above an outward bud.\n' }],
      { actor: 'test', now: new Date() },
    );
    const accountId = await ticketFor(t, 'MB-4');
    const notice = await noticeOf(t, accountId);
    expect(notice.params.body).toBeUndefined();
    expect(notice.params.generation).toMatchObject({ abstained: true });
    const decision = await decisionOf(t, notice.id);
    expect(decision).toMatchObject({ outcome: 'deny', policy_ids: [TEXT_ABSTAINED_POLICY_ID] });
    expect(decision.reasons[0]).toMatch(/^generated body: abstained/);
    const [play] = await t.db.query<{ status: string; state: { data: { sent?: string } } }>(
      'SELECT status, state FROM plays WHERE account_id = $1',
      [accountId],
    );
    expect(play).toMatchObject({ status: 'refused' });
    expect(play!.state.data.sent).toMatch(/abstained/);
    expect(await messagesOf(t, accountId)).toEqual([]);
  });

  it("the retention play's credit notice states the credit and cites the credits policy; the nurture email cites the plans", async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    await loadDemoKnowledge(t.db, new Date());
    const accountId = await troubledCustomer(t, 'MB-5');
    const gate = PolicyGate.load();
    const now = new Date();
    await startPlay(t.db, retentionPlay(gate), {
      accountId,
      state: {
        agent: { id: 'retention', offerAutonomy: 4, notifyAutonomy: 4 },
        customer: { id: 'MB-5', segment: 'consumer', region: 'US', inHoldout: false },
        amountCents: 2000,
        ev: { value: 42 },
        reason: 'test',
      },
      actor: 'test',
      now,
    });
    await runDuePlays(t.db, playRegistry(retentionPlay(gate)), { actor: 'test', now });
    const [notice] = await t.db.query<Notice>("SELECT id, params FROM proposals WHERE account_id = $1 AND action = 'send_message'", [
      accountId,
    ]);
    // The credit was applied before the notice: it is stated as applied, never offered.
    expect(notice!.params.body).toContain('We have applied a credit of $20.00 to your account.');
    expect(notice!.params.sentences).toContainEqual({ text: 'We have applied a credit of $20.00 to your account.', markers: ['C'] });
    expect(notice!.params.body).not.toMatch(/\bwe can offer\b/i);
    expect(notice!.params.body).not.toMatch(/\[(\d+|C)\]/);
    // Said once: the knowledge base's three ways of saying "a credit comes off the next bill" are not all quoted.
    const sameThing = [
      'The credit appears on your next bill.',
      'A bill credit reduces the amount due',
      'A bill credit is an amount we take off',
    ];
    expect(sameThing.filter((x) => notice!.params.body!.includes(x))).toHaveLength(1);
    // Numbered from [1] in order of first use, and about credits on the bill, not outages.
    const markers = notice!.params.sentences!.flatMap((x) => x.markers).filter((m) => m !== 'C');
    expect(markers[0]).toBe('1');
    expect([...new Set(markers)]).toEqual([...new Set(markers)].map((_, i) => String(i + 1)));
    expect(notice!.params.citations!.map((c) => c.path)).not.toContain('outages.md');
    expect(notice!.params.body).toMatch(/unsubscribe/i);
    expect(notice!.params.citations!.some((c) => c.path === 'credits.md')).toBe(true);
    const [queued] = await messagesOf(t, accountId);
    expect(queued!.body).toBe(notice!.params.body);

    // The loop's own message proposals get their body the same way: a lead's first nurture email.
    const posted = await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      body: [
        {
          id: 'mb-lf-1',
          type: 'lead_form',
          version: 2,
          subject: { email: 'ann@initech.example' },
          data: { firstName: 'Ann', email: 'ann@initech.example', formId: 'demo', consents: [{ channel: 'email', purpose: 'sales' }] },
        },
      ],
    });
    expect(posted.status, posted.text).toBe(202);
    await t.bus.drain();
    const leadId = posted.body.accepted[0].leadId;
    const [email] = await t.db.query<Notice>(
      "SELECT id, params FROM proposals WHERE lead_id = $1 AND action = 'send_message' AND status = 'decided'",
      [leadId],
    );
    expect(email!.params.body).toMatch(/^Hello,/);
    expect(email!.params.citations!.some((c) => c.path === 'plans.md')).toBe(true);
    const [lead] = await t.db.query<{ body: string | null }>('SELECT body FROM messages WHERE lead_id = $1', [leadId]);
    expect(lead!.body).toBe(email!.params.body);
    expect(JSON.stringify(email!.params)).not.toContain('Ann');
  });
});

describe('message bodies through a configured model (a fake OpenAI-compatible server on loopback)', () => {
  it("never sends the case's internal subject to the model or the customer; the answer comes back through the masker", async () => {
    const seen: string[] = [];
    const fake = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        seen.push(raw);
        const content = 'We are sorry for the trouble. You are on a month-to-month contract at $80.00 a month [C].';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ model: 'fake-model', choices: [{ index: 0, message: { role: 'assistant', content } }] }));
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    try {
      t = await createTestApp();
      await loadDemoKnowledge(t.db, new Date());
      const accountId = await troubledCustomer(t, 'MB-6');
      const opened = await t.call('POST', '/api/v1/cases', {
        body: { accountId, subject: 'Outage again, write to mb6.private@example.com' },
      });
      expect(opened.status, opened.text).toBe(201);
      const provider = new OpenAICompatibleProvider({
        chat: { baseUrl: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`, model: 'fake-model' },
        maxRetries: 0,
      });
      const drafted = await t.db.transaction((tx) =>
        draftMessageBody(
          tx,
          { accountId, template: 'we-are-on-it', consentPurpose: 'service', now: new Date(), caseId: opened.body.id },
          { provider },
        ),
      );
      expect(seen).toHaveLength(1);
      // The subject ACS's case carries (here with an address in it) is internal: it reaches neither the model nor the body.
      expect(seen[0]).not.toContain('mb6.private');
      expect(seen[0]).not.toContain('Outage again');
      expect(drafted!.params.body).toBe('We are sorry for the trouble. You are on a month-to-month contract at $80.00 a month.');
      expect(drafted!.params.sentences).toEqual([{ text: 'You are on a month-to-month contract at $80.00 a month.', markers: ['C'] }]);
      expect(drafted!.generation.decision.sendable).toBe(true);
      expect(drafted!.generation.record).toMatchObject({ provider: 'openai-compatible', model: 'fake-model' });
      expect(JSON.stringify(drafted!.generation.record)).not.toContain('mb6.private');
    } finally {
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  });
});

describe("the demo knowledge base's review date", () => {
  const DAY = 86_400_000;
  it('is a year after the demo clock; once it passes, the source grounds no customer-facing text until approved again', async () => {
    t = await createTestApp();
    const now = new Date('2026-01-05T00:00:00Z');
    await loadDemoKnowledge(t.db, now);
    const help = await getSource(t.db, 'telco-help-centre', now);
    expect(help.reviewDate).toBe('2027-01-05');
    expect(help.current).toBe(true);
    // Later loads (every start) keep the date: a review date is not renewed by restarting.
    await loadDemoKnowledge(t.db, new Date(now.getTime() + 30 * DAY));
    expect((await getSource(t.db, 'telco-help-centre', now)).reviewDate).toBe('2027-01-05');

    const passed = new Date('2027-01-06T12:00:00Z');
    await loadDemoKnowledge(t.db, passed);
    expect(await getSource(t.db, 'telco-help-centre', passed)).toMatchObject({ reviewDate: '2027-01-05', current: false });
    const q = 'late payment fee';
    expect((await searchKnowledge(t.db, { q, k: 5, use: 'customer', now })).results.length).toBeGreaterThan(0);
    expect((await searchKnowledge(t.db, { q, k: 5, use: 'customer', now: passed })).results).toEqual([]);
    // Staff may still read it (internal use): what lapses is the approval for customers.
    expect((await searchKnowledge(t.db, { q, k: 5, use: 'internal', now: passed })).results.length).toBeGreaterThan(0);
    const body = await t.db.transaction((tx) =>
      draftMessageBody(tx, { accountId: null, template: 'we-are-on-it', consentPurpose: 'service', now: passed }),
    );
    expect(body).toBeNull();
    const answer = await answerQuestion(
      { db: t.db, now: passed, actor: 'test' },
      { question: 'How much is the late payment fee?', channel: 'chat' },
    );
    expect(answer).toMatchObject({ abstained: true, citations: [] });
    expect(answer.reason).toMatch(/no passage was retrieved/);
  });

  it('an older placeholder date far in the future is brought back to a year out', async () => {
    t = await createTestApp();
    const now = new Date();
    await importDocuments(
      t.db,
      { name: 'telco-help-centre', reviewDate: '2030-12-31', approve: true },
      [{ path: 'x.md', format: 'md', content: '# X\n\nSomething to say about bills.' }],
      { actor: 'test', now },
    );
    await loadDemoKnowledge(t.db, now);
    expect((await getSource(t.db, 'telco-help-centre', now)).reviewDate).toBe(demoReviewDate(now));
  });
});
