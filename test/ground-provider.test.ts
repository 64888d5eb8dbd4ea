import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  OpenAICompatibleProvider,
  ProviderError,
  endpointUrl,
  generate,
  maskedEmbed,
  trustMasker,
  type Passage,
} from '../src/ground/index.ts';
import { fakeOpenAiServer, type Seen } from './fake-openai.ts';

const KB: Passage[] = [
  {
    chunkId: 'kb-refunds-1',
    path: 'billing/refunds.md',
    headingPath: ['Billing', 'Refunds'],
    score: 4,
    text: 'Refunds for a cancelled plan are paid to the original payment method within 10 business days.',
  },
  {
    chunkId: 'kb-contact-1',
    path: 'support/contact.md',
    headingPath: ['Support'],
    score: 1,
    text: 'Write to billing@telco.example for billing questions.',
  },
];

const PERSONAL = {
  name: 'Marguerite Okonkwo',
  email: 'marguerite.okonkwo@example.net',
  phone: '+1 415 555 0134',
  card: '4111 1111 1111 1111',
};

/** The normal answer: a grounded reply that greets the customer by the placeholder the server was given. */
function ok(r: Seen): { status: number; body: unknown } {
  if (r.path.endsWith('/embeddings')) {
    const input = (JSON.parse(r.body) as { input: string[] }).input;
    return { status: 200, body: { model: 'fake-embed', data: input.map((_, i) => ({ index: i, embedding: [i, 0.5, 1] })) } };
  }
  const person = /\[NAME_\d+\]/.exec(r.body)?.[0] ?? 'there';
  const content = `Hi ${person},\nRefunds for a cancelled plan are paid to the original payment method within 10 business days [1].\nKind regards,\nThe customer care team`;
  return { status: 200, body: { id: 'x', model: 'fake-model-1', choices: [{ index: 0, message: { role: 'assistant', content } }] } };
}

const fake = fakeOpenAiServer(ok);
let base = '';
beforeAll(async () => {
  base = await fake.start();
});
afterAll(async () => fake.stop());
beforeEach(() => {
  fake.seen.length = 0;
  fake.setScript([]);
});

const provider = (opts: { timeoutMs?: number; maxRetries?: number } = {}) =>
  new OpenAICompatibleProvider({
    chat: { baseUrl: base, model: 'fake-model', apiKey: 'test-key-not-secret' },
    embed: { baseUrl: `${base}/v1`, model: 'fake-embed' },
    backoffMs: 1,
    ...opts,
  });

describe('the OpenAI-compatible provider against a fake OpenAI-compatible server', () => {
  it('sends masked text only: no email, phone, card or customer name reaches the fake server, and the answer is unmasked', async () => {
    const question = `Hi, I am ${PERSONAL.name}. I cancelled my plan; how long do refunds take? Mail me at ${PERSONAL.email} or call ${PERSONAL.phone}. My card is ${PERSONAL.card}.`;
    const g = await generate(
      { purpose: 'case_reply', query: question, passages: KB, facts: { name: PERSONAL.name, plan: 'Fibre 500', phone: PERSONAL.phone } },
      { provider: provider(), masker: trustMasker },
    );
    expect(fake.seen).toHaveLength(1);
    const sent = fake.seen[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.auth).toBe('Bearer test-key-not-secret');
    const body = JSON.parse(sent.body) as { model: string; messages: { role: string; content: string }[] };
    expect(body.model).toBe('fake-model');
    expect(body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    for (const value of [
      PERSONAL.name,
      'Marguerite',
      'Okonkwo',
      PERSONAL.email,
      PERSONAL.phone,
      '415 555 0134',
      PERSONAL.card,
      '4111111111111111',
    ])
      expect(sent.body).not.toContain(value);
    expect(sent.body).toContain('[EMAIL_1]');
    expect(sent.body).toContain('[CARD_1]');
    expect(sent.body).toContain('[PHONE_1]');
    expect(sent.body).toContain('[NAME_1]');
    // The question travels as data.
    expect(body.messages[1]!.content).toMatch(/<<<DATA kind="ticket"[^\n]*>>>\n[^\n]*cancelled my plan/);

    expect(g.text.startsWith(`Hi ${PERSONAL.name},`)).toBe(true);
    expect(g.text).not.toMatch(/\[NAME_\d+\]/);
    expect(g.abstained).toBe(false);
    expect(g.decision).toEqual({ sendable: true, routeToApproval: false, reasons: [] });
    expect(g.citations).toEqual([
      { marker: '1', chunkId: 'kb-refunds-1', path: 'billing/refunds.md', headingPath: ['Billing', 'Refunds'] },
    ]);
    expect(g.record).toMatchObject({
      provider: 'openai-compatible',
      model: 'fake-model-1',
      promptId: 'case-reply',
      promptVersion: 2,
      citedChunkIds: ['kb-refunds-1'],
      // Occurrences masked, by type: two emails (the customer's, and the support address in a passage: masking runs
      // over the whole prompt); the name and the phone twice each (in the question and in the customer facts).
      maskedEntities: { email: 2, card: 1, phone: 2, name: 2 },
    });
    expect(JSON.stringify(g.record)).not.toMatch(/Marguerite|example\.net|4111|555/);
  });

  it('an answer that states what no passage says is blocked and routed to approval', async () => {
    fake.setScript([
      () => ({
        status: 200,
        body: {
          model: 'fake-model-1',
          choices: [{ message: { content: 'Refunds are paid the same day, guaranteed, with a $20.00 bonus [1].' } }],
        },
      }),
    ]);
    const g = await generate(
      { purpose: 'answer', query: 'How long do refunds take for a cancelled plan?', passages: KB },
      { provider: provider(), masker: trustMasker },
    );
    expect(g.decision.sendable).toBe(false);
    expect(g.decision.routeToApproval).toBe(true);
    expect(g.decision.reasons.map((r) => r.split(':')[0])).toEqual(['citations', 'prohibited-claims', 'amounts']);
  });

  it('drops a reasoning model’s <think> block from the answer', async () => {
    fake.setScript([
      () => ({
        status: 200,
        body: {
          choices: [
            {
              message: {
                content: '<think>They want refund timing.</think>\nRefunds for a cancelled plan are paid within 10 business days [1].',
              },
            },
          ],
        },
      }),
    ]);
    const g = await generate(
      { purpose: 'answer', query: 'How long do refunds take for a cancelled plan?', passages: KB },
      { provider: provider(), masker: trustMasker },
    );
    expect(g.text).toBe('Refunds for a cancelled plan are paid within 10 business days [1].');
    expect(g.decision.sendable).toBe(true);
  });

  it('abstains without calling the server when support is weak, and takes the model’s own abstention', async () => {
    const weak = await generate(
      { purpose: 'answer', query: 'Do you sell parrots on Sundays?', passages: KB },
      { provider: provider(), masker: trustMasker },
    );
    expect(weak.abstained).toBe(true);
    expect(fake.seen).toHaveLength(0);
    fake.setScript([() => ({ status: 200, body: { choices: [{ message: { content: 'Not enough support: route to a person.' } }] } })]);
    const own = await generate(
      { purpose: 'answer', query: 'How long do refunds take for a cancelled plan?', passages: KB },
      { provider: provider(), masker: trustMasker },
    );
    expect(own.abstained).toBe(true);
    expect(own.decision.routeToApproval).toBe(true);
  });

  it('refuses to call a provider without a masker', async () => {
    await expect(
      generate({ purpose: 'answer', query: 'How long do refunds take?', passages: KB }, { provider: provider() }),
    ).rejects.toThrow(/masker/);
    expect(fake.seen).toHaveLength(0);
  });

  it('retries a 5xx and a 429, then succeeds', async () => {
    fake.setScript([() => ({ status: 503, body: { error: 'busy' } }), () => ({ status: 429, body: { error: 'slow down' } })]);
    const r = await provider().chat([{ role: 'user', content: 'hello' }]);
    expect(r.model).toBe('fake-model-1');
    expect(fake.seen).toHaveLength(3);
  });

  it('gives up after the bounded retries with a clear error', async () => {
    fake.setScript([0, 1, 2].map(() => () => ({ status: 500, body: 'internal' })));
    const err = await provider({ maxRetries: 2 })
      .chat([{ role: 'user', content: 'hello' }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toMatch(
      /chat\/completions at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: HTTP 500 \(internal\), after 3 attempt/,
    );
    expect(fake.seen).toHaveLength(3);
  });

  it('does not retry a refusal (401)', async () => {
    fake.setScript([() => ({ status: 401, body: { error: { message: 'bad key' } } })]);
    const err = (await provider()
      .chat([{ role: 'user', content: 'hello' }])
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.status).toBe(401);
    expect(err.message).toMatch(/HTTP 401/);
    expect(fake.seen).toHaveLength(1);
  });

  it('times out a server that does not answer', async () => {
    fake.setScript([() => 'hang']);
    const err = (await provider({ timeoutMs: 200, maxRetries: 0 })
      .chat([{ role: 'user', content: 'hello' }])
      .catch((e: unknown) => e)) as ProviderError;
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/no answer within 200 ms/);
  });

  it('times out a server that sends headers and then stalls, and retries it', async () => {
    fake.setScript([() => 'stall']);
    const r = await provider({ timeoutMs: 200, maxRetries: 1 }).chat([{ role: 'user', content: 'hello' }]);
    expect(r.model).toBe('fake-model-1');
    expect(fake.seen).toHaveLength(2);
  });

  it('an answer of the wrong shape is a clear error', async () => {
    fake.setScript([() => ({ status: 200, body: { choices: [] } })]);
    await expect(provider().chat([{ role: 'user', content: 'hello' }])).rejects.toThrow(/no choices\[0\]\.message\.content/);
  });

  it('embeds masked texts, in order', async () => {
    const r = await maskedEmbed(provider(), trustMasker, [`mail ${PERSONAL.email}`, 'refunds'], [PERSONAL.name]);
    expect(r).toEqual({
      model: 'fake-embed',
      vectors: [
        [0, 0.5, 1],
        [1, 0.5, 1],
      ],
    });
    expect(fake.seen[0]!.path).toBe('/v1/embeddings');
    expect(fake.seen[0]!.auth).toBeUndefined();
    expect(fake.seen[0]!.body).not.toContain(PERSONAL.email);
  });

  it('an unconfigured endpoint says which variables to set', async () => {
    const p = new OpenAICompatibleProvider({ chat: { baseUrl: base, model: 'm' } });
    await expect(p.embed(['x'])).rejects.toThrow(/ACS_EMBED_BASE_URL and ACS_EMBED_MODEL/);
    expect(endpointUrl('http://h:1/', 'embeddings')).toBe('http://h:1/v1/embeddings');
    expect(endpointUrl('http://h:1/v1', 'chat/completions')).toBe('http://h:1/v1/chat/completions');
  });
});
