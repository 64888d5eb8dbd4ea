import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadDemoKnowledge } from '../src/cli/demo-knowledge.ts';
import { OpenAICompatibleProvider } from '../src/ground/index.ts';
import { listLedger } from '../src/ledger/index.ts';
import { chatAnswer, fakeOpenAiServer, type Seen } from './fake-openai.ts';
import { createTestApp, type ResponseBody, type TestApp } from './helpers.ts';

/**
 * Agent assist (suggested replies, case summaries) and answers to customers' questions, over HTTP, grounded in the
 * demo knowledge base: on the embedded composer, and through a FAKE OpenAI-compatible server that must only ever see
 * masked text.
 */

const PERSON = {
  firstName: 'Marguerite',
  lastName: 'Okonkwo',
  email: 'marguerite.okonkwo@example.net',
  phone: '+1 415 555 0134',
  card: '4111 1111 1111 1111',
};
const NAME = `${PERSON.firstName} ${PERSON.lastName}`;
const PERSONAL_VALUES = [
  NAME,
  PERSON.firstName,
  PERSON.lastName,
  PERSON.email,
  PERSON.phone,
  '415 555 0134',
  '4155550134',
  PERSON.card,
  '4111111111111111',
];

/** A customer with a contact, a subscription to Fiber 500 and an open case whose text carries their personal data. */
async function seedCustomer(t: TestApp) {
  const created = async (path: string, body: unknown) => {
    const res = await t.call('POST', path, { body });
    expect(res.status, res.text).toBe(201);
    return res.body as ResponseBody;
  };
  const account = await created('/api/v1/accounts', { name: 'Okonkwo household', kind: 'person', customerId: 'cust-okonkwo' });
  const contact = await created('/api/v1/contacts', {
    accountId: account.id,
    firstName: PERSON.firstName,
    lastName: PERSON.lastName,
    email: PERSON.email,
    phone: PERSON.phone,
  });
  const product = await created('/api/v1/products', { sku: 'FIBER-500', name: 'Fiber 500', price: 70 });
  await created('/api/v1/subscriptions', {
    accountId: account.id,
    productId: product.id,
    status: 'active',
    tenureMonths: 14,
    monthlyAmount: 70,
  });
  const ticket = await created('/api/v1/cases', {
    accountId: account.id,
    contactId: contact.id,
    subject: 'My internet is down',
    description: `Hi, this is ${NAME}. My internet is down since this morning. What should I try first, and will I get a credit for the outage? Call me on ${PERSON.phone} or mail ${PERSON.email}. My card is ${PERSON.card}.`,
    channel: 'email',
  });
  const offTopic = await created('/api/v1/cases', {
    accountId: account.id,
    contactId: contact.id,
    subject: 'Parrot grooming',
    description: 'Do you groom parrots and trim their feathers on Sundays?',
  });
  return { account, contact, ticket, offTopic };
}

const noPersonalData = (text: string) => {
  for (const v of PERSONAL_VALUES) expect(text, v).not.toContain(v);
};

describe('agent assist and answers on the embedded composer', () => {
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seedCustomer>>;
  beforeAll(async () => {
    t = await createTestApp();
    await loadDemoKnowledge(t.db, new Date(), 'test');
    seeded = await seedCustomer(t);
  });
  afterAll(async () => t.close());

  it('suggests a reply to a case the knowledge base covers, citing chunk, path, heading path and the passage', async () => {
    const res = await t.call('POST', `/api/v1/cases/${seeded.ticket.id}/suggest-reply`, { role: 'agent' });
    expect(res.status, res.text).toBe(200);
    const r = res.body;
    expect(r.caseId).toBe(seeded.ticket.id);
    expect(r.abstained).toBe(false);
    expect(r.reason).toBeUndefined();
    expect(r.text.startsWith(`Hi ${NAME},`)).toBe(true);
    const knowledge = r.citations.filter((c: ResponseBody) => c.kind === 'knowledge');
    expect(knowledge.length).toBeGreaterThan(0);
    for (const c of knowledge) {
      expect(r.text).toContain(`[${c.marker}]`);
      expect(c.path).toMatch(/\.md$/);
      expect(c.headingPath.length).toBeGreaterThan(0);
      expect(c.quote.length).toBeGreaterThan(0);
      expect(r.retrieval.chunkIds).toContain(c.chunkId);
    }
    expect(knowledge.map((c: ResponseBody) => c.path)).toContain('outages.md');
    expect(r.retrieval).toMatchObject({ use: 'customer', k: 5 });
    expect(r.guardrails.passed).toBe(true);
    expect(r.guardrails.groundingRate).toBe(1);
    expect(r.decision).toEqual({ sendable: true, routeToApproval: false, reasons: [] });
    expect(r.generation).toMatchObject({
      purpose: 'case_reply',
      promptId: 'extractive-composer',
      promptVersion: 1,
      provider: 'embedded',
      model: 'extractive-composer@1',
      maskedEntities: {},
    });

    // Ledgered: ids and hashes, no personal data.
    const entries = await listLedger(t.db, { limit: 10, type: 'generation.created' });
    const entry = entries.find((e) => e.seq === r.generation.ledgerSeq)!;
    expect(entry).toMatchObject({ subjectType: 'case', subjectId: seeded.ticket.id });
    expect((entry.data as ResponseBody).generationId).toBe(r.generation.id);
    noPersonalData(JSON.stringify(entry));
  });

  it('abstains on a case the knowledge base does not cover: not enough support, route to a person', async () => {
    const res = await t.call('POST', `/api/v1/cases/${seeded.offTopic.id}/suggest-reply`, { role: 'reviewer' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.abstained).toBe(true);
    expect(res.body.text).toBe('Not enough support: route to a person.');
    expect(res.body.reason).toMatch(/^not enough support: route to a person \(/);
    expect(res.body.citations).toEqual([]);
    expect(res.body.decision.sendable).toBe(false);
    expect(res.body.decision.routeToApproval).toBe(true);
  });

  it('answers a customer question the knowledge base covers, with citations, for chat and email', async () => {
    for (const channel of ['chat', 'email'] as const) {
      const res = await t.call('POST', '/api/v1/answer', {
        role: 'agent',
        body: { question: 'How much is the late payment fee?', customerId: 'cust-okonkwo', channel },
      });
      expect(res.status, res.text).toBe(200);
      const r = res.body;
      expect(r).toMatchObject({ channel, customerId: seeded.account.id, abstained: false });
      expect(r.text).toContain('$5');
      const cited = r.citations.find((c: ResponseBody) => c.path === 'billing.md');
      expect(cited).toMatchObject({ kind: 'knowledge', headingPath: ['Billing and payments', 'Late payments'] });
      expect(cited.quote).toContain('late payment');
      expect(r.decision.sendable).toBe(true);
      expect(r.generation).toMatchObject({ purpose: 'answer', provider: 'embedded' });
    }
  });

  it('abstains on a question the knowledge base does not cover, and never cites internal-only documents', async () => {
    const res = await t.call('POST', '/api/v1/answer', { body: { question: 'Do you groom parrots on Sundays?', channel: 'chat' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ abstained: true, customerId: null, citations: [] });
    // The agent playbook is internal: an answer to a customer never retrieves it.
    const playbook = await t.call('POST', '/api/v1/answer', {
      body: { question: 'Who approves a credit above the agent limit?', channel: 'chat' },
    });
    expect(playbook.status).toBe(200);
    for (const c of playbook.body.citations) expect(c.path).not.toBe('agent-playbook.md');
  });

  it('summarises a case for staff, citing the case; the analyst sees it masked', async () => {
    const admin = await t.call('POST', `/api/v1/cases/${seeded.ticket.id}/summary`);
    expect(admin.status, admin.text).toBe(200);
    expect(admin.body).toMatchObject({ caseId: seeded.ticket.id, masked: false, abstained: false });
    expect(admin.body.citations[0]).toMatchObject({ kind: 'case', chunkId: `case:${seeded.ticket.id}` });
    expect(admin.body.generation.purpose).toBe('case_summary');
    expect(admin.body.retrieval.use).toBe('case');

    const analyst = await t.call('POST', `/api/v1/cases/${seeded.ticket.id}/summary`, { role: 'analyst', body: {} });
    expect(analyst.status, analyst.text).toBe(200);
    expect(analyst.body.masked).toBe(true);
    noPersonalData(JSON.stringify(analyst.body));
    expect(JSON.stringify(analyst.body)).toContain('[EMAIL_1]');
  });

  it('who may ask: analysts get no reply or answer; the summary is open to every role; no token, no answer', async () => {
    const id = seeded.ticket.id;
    expect((await t.call('POST', `/api/v1/cases/${id}/suggest-reply`, { role: 'analyst' })).status).toBe(403);
    expect((await t.call('POST', '/api/v1/answer', { role: 'analyst', body: { question: 'fee?', channel: 'chat' } })).status).toBe(403);
    expect((await t.call('POST', `/api/v1/cases/${id}/summary`, { role: 'agent' })).status).toBe(200);
    expect((await t.call('POST', `/api/v1/cases/${id}/suggest-reply`, { token: null })).status).toBe(401);
  });

  it('the AI-quality KPIs and readiness count the ledgered generations: grounding, unsupported claims, abstentions, masking', async () => {
    const entries = await listLedger(t.db, { limit: 500, type: 'generation.created' });
    const data = entries.map((e) => e.data as ResponseBody);
    const answered = data.filter((d) => !d.abstained);
    const factual = answered.reduce((n, d) => n + d.guardrails.factualSentences, 0);
    const supported = answered.reduce((n, d) => n + d.guardrails.supportedSentences, 0);
    expect(data.length).toBeGreaterThan(3);
    expect(factual).toBeGreaterThan(0);

    const m = (await t.call('GET', '/api/v1/kpis?days=7', { role: 'analyst' })).body.metrics.aiQuality;
    expect(m.groundingRate).toMatchObject({ unit: 'share', value: supported / factual, numerator: supported, denominator: factual });
    expect(m.unsupportedClaims).toMatchObject({ unit: 'per1000', value: Math.round(((factual - supported) / factual) * 10_000) / 10 });
    expect(m.abstentionRate).toMatchObject({ numerator: data.length - answered.length, denominator: data.length });
    // The embedded composer sends nothing anywhere, so nothing was masked.
    expect(m.maskedEntities).toMatchObject({ unit: 'count', value: 0, detail: { byType: {}, generations: data.length } });

    const readiness = (await t.call('GET', '/api/v1/readiness?days=7', { role: 'analyst' })).body;
    const reliability = readiness.dimensions.find((d: ResponseBody) => d.key === 'agentReliability');
    expect(reliability.metrics.find((x: ResponseBody) => x.key === 'groundingRate')).toMatchObject({
      value: Math.round((supported / factual) * 1000) / 1000,
    });
    expect(reliability.metrics.find((x: ResponseBody) => x.key === 'abstentionRate').score).toBeNull();
    expect(reliability.evidence.generations).toBe(data.length);
  });

  it('an unknown case or customer is a 404 naming it; bad input a 400 naming the field', async () => {
    const noCase = await t.call('POST', '/api/v1/cases/case_nope/suggest-reply');
    expect(noCase.status).toBe(404);
    expect(noCase.body.detail).toMatch(/no case case_nope/);
    expect((await t.call('POST', '/api/v1/cases/case%00x/suggest-reply')).status).toBe(400);
    const noCaseSummary = await t.call('POST', '/api/v1/cases/case_nope/summary');
    expect(noCaseSummary.status).toBe(404);
    const noCustomer = await t.call('POST', '/api/v1/answer', {
      body: { question: 'What is the late fee?', customerId: 'cust-nobody', channel: 'chat' },
    });
    expect(noCustomer.status).toBe(404);
    expect(noCustomer.body.detail).toMatch(/cust-nobody/);

    const bad = async (body: unknown) => {
      const res = await t.call('POST', '/api/v1/answer', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      return res.body.issues.map((i: { path: string }) => i.path);
    };
    expect(await bad({ channel: 'chat' })).toEqual(['question']);
    expect(await bad({ question: '   ', channel: 'chat' })).toEqual(['question']);
    expect(await bad({ question: 'fee?', channel: 'sms' })).toEqual(['channel']);
    expect(await bad({ question: 'fee?' })).toEqual(['channel']);
    expect(await bad({ question: 'fee?', channel: 'chat', extra: 1 })).toEqual(['extra']);
    expect(await bad({ question: 'late\u0000fee?', channel: 'chat' })).toEqual(['question']);
    expect(await bad({ question: 'fee?', channel: 'chat', customerId: 'cust\u0000x' })).toEqual(['customerId']);
    const badReply = await t.call('POST', `/api/v1/cases/${seeded.ticket.id}/suggest-reply`, { body: { tone: 'warm' } });
    expect(badReply.status).toBe(400);
    expect(badReply.body.issues.map((i: { path: string }) => i.path)).toEqual(['tone']);
  });
});

/** The first sentence of passage [1] in the prompt, cited: a grounded answer as a model would write it. */
function groundedAnswer(r: Seen) {
  const body = JSON.parse(r.body) as { messages: { content: string }[] };
  const user = body.messages[1]!.content;
  const passage = /\[1\]\n<<<DATA kind="passage"[^\n]*>>>\n([\s\S]*?)\n<<<END DATA>>>/.exec(user)?.[1] ?? '';
  const sentence =
    passage
      .replace(/^[ \t]*#{1,6}[ \t].*$/gm, '')
      .split(/(?<=[.!?])\s+/)
      .map((s) => s.trim())
      .find((s) => s.split(/\s+/).length >= 5) ?? '';
  const person = /\[NAME_\d+\]/.exec(r.body)?.[0] ?? 'there';
  return chatAnswer(`Hi ${person},\n\n${sentence.replace(/([.!?])$/, ' [1]$1')}\n\nKind regards,\nThe customer care team`);
}

describe('agent assist and answers through a FAKE OpenAI-compatible server', () => {
  const fake = fakeOpenAiServer(groundedAnswer);
  let t: TestApp;
  let seeded: Awaited<ReturnType<typeof seedCustomer>>;
  beforeAll(async () => {
    const base = await fake.start();
    const provider = new OpenAICompatibleProvider({ chat: { baseUrl: base, model: 'fake-model' }, maxRetries: 0 });
    t = await createTestApp({ provider });
    await loadDemoKnowledge(t.db, new Date(), 'test');
    seeded = await seedCustomer(t);
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });
  beforeEach(() => {
    fake.seen.length = 0;
    fake.setScript([]);
  });

  it('a suggested reply goes through the provider with masked text: no name, email, phone or card reaches the server', async () => {
    const res = await t.call('POST', `/api/v1/cases/${seeded.ticket.id}/suggest-reply`, { role: 'agent' });
    expect(res.status, res.text).toBe(200);
    expect(fake.seen).toHaveLength(1);
    const sent = fake.seen[0]!.body;
    noPersonalData(sent);
    expect(sent).toContain('[EMAIL_1]');
    expect(sent).toContain('[PHONE_1]');
    expect(sent).toContain('[CARD_1]');
    expect(sent).toContain('[NAME_1]');
    // The answer comes back unmasked, cited, and checked.
    const r = res.body;
    expect(r.abstained).toBe(false);
    expect(r.text.startsWith(`Hi ${NAME},`)).toBe(true);
    expect(r.citations[0]).toMatchObject({ marker: '1', kind: 'knowledge' });
    expect(r.guardrails.passed).toBe(true);
    expect(r.generation).toMatchObject({ provider: 'openai-compatible', model: 'fake-model-1', promptId: 'case-reply', promptVersion: 2 });
    expect(r.generation.maskedEntities).toMatchObject({ email: 1, card: 1 });
    const kpis = (await t.call('GET', '/api/v1/kpis?days=7')).body.metrics.aiQuality;
    expect(kpis.maskedEntities.value).toBeGreaterThanOrEqual(4);
    expect(kpis.maskedEntities.detail.byType).toMatchObject({ email: 1, card: 1 });

    const entries = await listLedger(t.db, { limit: 10, type: 'generation.created' });
    const entry = entries.find((e) => e.seq === r.generation.ledgerSeq)!;
    expect((entry.data as ResponseBody).provider).toBe('openai-compatible');
    noPersonalData(JSON.stringify(entry));
  });

  it('an answer goes through the provider masked; a question with no support abstains without calling it', async () => {
    const question = `I am ${NAME} (${PERSON.email}, ${PERSON.phone}). How much is the late payment fee? My card ${PERSON.card} was declined.`;
    const res = await t.call('POST', '/api/v1/answer', { body: { question, customerId: seeded.account.id, channel: 'email' } });
    expect(res.status, res.text).toBe(200);
    expect(fake.seen).toHaveLength(1);
    noPersonalData(fake.seen[0]!.body);
    expect(res.body.generation).toMatchObject({ provider: 'openai-compatible', promptId: 'answer' });
    expect(res.body.citations.length).toBeGreaterThan(0);

    const none = await t.call('POST', '/api/v1/answer', { body: { question: 'Do you groom parrots on Sundays?', channel: 'chat' } });
    expect(none.body.abstained).toBe(true);
    expect(fake.seen).toHaveLength(1);
  });

  it('a case summary for staff goes through the provider masked too', async () => {
    const res = await t.call('POST', `/api/v1/cases/${seeded.ticket.id}/summary`, { role: 'reviewer' });
    expect(res.status, res.text).toBe(200);
    expect(fake.seen).toHaveLength(1);
    noPersonalData(fake.seen[0]!.body);
    expect(res.body.generation).toMatchObject({ provider: 'openai-compatible', promptId: 'case-summary' });
  });

  it('a model that fails is a 502 that names no endpoint', async () => {
    fake.setScript([() => ({ status: 500, body: 'down' })]);
    const res = await t.call('POST', '/api/v1/answer', { body: { question: 'How much is the late payment fee?', channel: 'chat' } });
    expect(res.status).toBe(502);
    expect(res.body.code).toBe('generation.provider_failed');
    expect(res.body.detail).toMatch(/HTTP 500 after 1 attempt/);
    expect(res.body.detail).not.toMatch(/127\.0\.0\.1/);
  });
});

/**
 * A FAKE embedding model: each text becomes a vector of concept counts (travel, equipment, billing) plus a constant, so
 * texts about the same thing in different words come out close. It stands in for a real embedding model outside ACS.
 */
const CONCEPTS = [
  ['abroad', 'overseas', 'holiday', 'travel', 'trip', 'volts', 'adapter', 'mains'],
  ['router', 'modem', 'wifi', 'box', 'hub'],
  ['payment', 'fee', 'bill', 'late', 'due', 'unpaid'],
];
function conceptVector(text: string): number[] {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  return [...CONCEPTS.map((c) => words.filter((w) => c.includes(w)).length), 0.1];
}
function embeddingsOrChat(r: Seen) {
  if (!r.path.endsWith('/embeddings')) {
    // No customer is named here: a placeholder the prompt itself shows is no one's name to greet.
    const answer = groundedAnswer(r);
    const message = answer.body.choices[0]!.message;
    message.content = message.content.replace(/^Hi \[NAME_\d+\],/, 'Hello,');
    return answer;
  }
  const input = (JSON.parse(r.body) as { input: string[] }).input;
  return { status: 200, body: { model: 'fake-embed', data: input.map((t, index) => ({ index, embedding: conceptVector(t) })) } };
}

describe('assist retrieval is hybrid with an embedding model (a FAKE OpenAI-compatible server for chat and embeddings)', () => {
  const fake = fakeOpenAiServer(embeddingsOrChat);
  let t: TestApp;
  // Shares no word with the passage below: only the embeddings can find it.
  const QUESTION = 'Can I use my wifi box on holiday overseas?';
  beforeAll(async () => {
    const base = await fake.start();
    const provider = new OpenAICompatibleProvider({
      chat: { baseUrl: base, model: 'fake-model' },
      embed: { baseUrl: base, model: 'fake-embed' },
      maxRetries: 0,
    });
    t = await createTestApp({ provider });
    const source = { name: 'travel-help', owner: 'Care', audience: 'customer', reviewDate: null };
    for (const [path, content] of [
      [
        'travel/router-abroad.md',
        '# Taking the router abroad\n\nThe modem works on any mains supply between 100 and 240 volts, so a plug adapter is all it needs.\n',
      ],
      [
        'billing/late-fees.md',
        '# Late payment\n\nA late payment fee of $5 applies when a bill is still unpaid 14 days after its due date.\n',
      ],
    ] as const) {
      const res = await t.call('POST', '/api/v1/knowledge/documents', { body: { path, content, source } });
      expect(res.status, res.text).toBe(201);
    }
  });
  afterAll(async () => {
    await t.close();
    await fake.stop();
  });
  beforeEach(() => {
    fake.seen.length = 0;
  });

  const embeddedQueries = () =>
    fake.seen.filter((s) => s.path.endsWith('/embeddings')).flatMap((s) => (JSON.parse(s.body) as { input: string[] }).input);

  it('an answer embeds the question and cites a passage found only semantically', async () => {
    const lexical = await t.call('GET', `/api/v1/knowledge/search?q=${encodeURIComponent(QUESTION)}&use=customer`);
    expect(lexical.status, lexical.text).toBe(200);
    const hit = lexical.body.results[0];
    expect(hit).toMatchObject({ path: 'travel/router-abroad.md', ranks: { lexical: null, semantic: 1 } });
    expect(hit.similarity).toBeGreaterThan(0.9);
    fake.seen.length = 0;

    const res = await t.call('POST', '/api/v1/answer', { body: { question: QUESTION, channel: 'chat' } });
    expect(res.status, res.text).toBe(200);
    expect(embeddedQueries()).toEqual([QUESTION]);
    expect(res.body.abstained).toBe(false);
    expect(res.body.citations[0]).toMatchObject({ marker: '1', kind: 'knowledge', path: 'travel/router-abroad.md' });
    expect(res.body.citations[0].quote).toContain('240 volts');
    expect(res.body.text).toContain('240 volts');
    expect(res.body.guardrails, res.body.text).toMatchObject({ passed: true });
  });

  it('a suggested reply embeds the case text and cites the semantic passage', async () => {
    const opened = await t.call('POST', '/api/v1/cases', { body: { subject: 'Going on holiday', description: QUESTION } });
    expect(opened.status, opened.text).toBe(201);
    const res = await t.call('POST', `/api/v1/cases/${opened.body.id}/suggest-reply`, { role: 'agent' });
    expect(res.status, res.text).toBe(200);
    expect(embeddedQueries()).toEqual([`Going on holiday\n\n${QUESTION}`]);
    expect(res.body.abstained).toBe(false);
    expect(res.body.citations[0]).toMatchObject({ kind: 'knowledge', path: 'travel/router-abroad.md' });
  });

  it('a message body retrieves with the embedding model too', async () => {
    const { draftMessageBody } = await import('../src/act/index.ts');
    const provider = new OpenAICompatibleProvider({ embed: { baseUrl: fake.base, model: 'fake-embed' }, maxRetries: 0 });
    const drafted = await t.db.transaction((tx) =>
      draftMessageBody(tx, { accountId: null, template: 'loyalty-credit', consentPurpose: 'service', now: new Date() }, { provider }),
    );
    expect(drafted).not.toBeNull();
    // The topic query was embedded; no chat model is configured, so the embedded composer wrote the body.
    expect(embeddedQueries()).toHaveLength(1);
    expect(fake.seen.some((s) => s.path.endsWith('/chat/completions'))).toBe(false);
    expect(drafted!.generation.record.provider).toBe('embedded');
  });
});
