import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  OpenAICompatibleProvider,
  ProviderError,
  endpointUrl,
  generate,
  maskedEmbed,
  type Masker,
  type MaskedEntity,
  type Passage,
} from '../src/ground/index.ts';

/**
 * A minimal masker for this test only (emails, phones, Luhn-checked cards, known names), standing in for the trust
 * module's. Placeholders are typed and numbered per value: <EMAIL_1>, <PHONE_1>, <CARD_1>, <PERSON_1>.
 */
const testMasker: Masker = {
  mask(text, names = []) {
    const values = new Map<string, string>();
    const counts: Record<string, number> = {};
    const entities: MaskedEntity[] = [];
    const placeholder = (type: string, value: string) => {
      for (const [ph, v] of values) if (v === value && ph.startsWith(`<${type}_`)) return ph;
      counts[type] = (counts[type] ?? 0) + 1;
      const ph = `<${type}_${counts[type]}>`;
      values.set(ph, value);
      entities.push({ type });
      return ph;
    };
    const luhn = (digits: string) => {
      let sum = 0;
      for (let i = 0; i < digits.length; i++) {
        let d = Number(digits[digits.length - 1 - i]);
        if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
        sum += d;
      }
      return sum % 10 === 0;
    };
    let out = text.replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, (m) => placeholder('EMAIL', m));
    out = out.replace(/\b\d(?:[ -]?\d){12,18}\b/g, (m) => (luhn(m.replace(/\D/g, '')) ? placeholder('CARD', m) : m));
    out = out.replace(/(?<![\w<])\+?\d[\d ().-]{7,}\d\b/g, (m) => (m.replace(/\D/g, '').length >= 9 ? placeholder('PHONE', m) : m));
    for (const name of names.filter(Boolean).sort((a, b) => b.length - a.length)) {
      const parts = [name, ...name.split(/\s+/).filter((p) => p.length > 2)];
      for (const part of parts)
        out = out.replace(new RegExp(`\\b${part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'g'), (m) => placeholder('PERSON', m));
    }
    return {
      text: out,
      entities,
      restore: (t) => t.replace(/<(EMAIL|CARD|PHONE|PERSON)_\d+>/g, (ph) => values.get(ph) ?? ph),
    };
  },
};

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

interface Seen {
  path: string;
  auth?: string;
  body: string;
}

/** A fake OpenAI-compatible server on loopback: records each request and answers by a script. */
function fakeServer() {
  const seen: Seen[] = [];
  let script: ((req: Seen) => { status: number; body: unknown } | 'hang' | 'stall')[] = [];
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const s: Seen = { path: req.url ?? '', auth: req.headers.authorization, body };
    seen.push(s);
    const step = script.shift() ?? ((r: Seen) => ok(r));
    const answer = step(s);
    if (answer === 'hang') return; // never answers: the client's timeout must end the wait
    if (answer === 'stall') {
      // headers and half a body, then nothing
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"choices": [');
      return;
    }
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
  });
  return {
    server,
    seen,
    setScript: (s: typeof script) => {
      script = [...s];
    },
  };
}

/** The normal answer: a grounded reply that greets the customer by the placeholder the server was given. */
function ok(r: Seen): { status: number; body: unknown } {
  if (r.path.endsWith('/embeddings')) {
    const input = (JSON.parse(r.body) as { input: string[] }).input;
    return { status: 200, body: { model: 'fake-embed', data: input.map((_, i) => ({ index: i, embedding: [i, 0.5, 1] })) } };
  }
  const person = /<PERSON_\d+>/.exec(r.body)?.[0] ?? 'there';
  const content = `Hi ${person},\nRefunds for a cancelled plan are paid to the original payment method within 10 business days [1].\nKind regards,\nThe customer care team`;
  return { status: 200, body: { id: 'x', model: 'fake-model-1', choices: [{ index: 0, message: { role: 'assistant', content } }] } };
}

const fake = fakeServer();
let base = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  fake.server.closeAllConnections();
  await new Promise((resolve) => fake.server.close(resolve));
});
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
      { provider: provider(), masker: testMasker },
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
    expect(sent.body).toContain('<EMAIL_1>');
    expect(sent.body).toContain('<CARD_1>');
    expect(sent.body).toContain('<PHONE_1>');
    expect(sent.body).toContain('<PERSON_1>');
    // The question travels as data.
    expect(body.messages[1]!.content).toMatch(/<<<DATA kind="ticket"[^\n]*>>>\n[^\n]*cancelled my plan/);

    expect(g.text.startsWith(`Hi ${PERSONAL.name},`)).toBe(true);
    expect(g.text).not.toMatch(/<PERSON_\d+>/);
    expect(g.abstained).toBe(false);
    expect(g.decision).toEqual({ sendable: true, routeToApproval: false, reasons: [] });
    expect(g.citations).toEqual([
      { marker: '1', chunkId: 'kb-refunds-1', path: 'billing/refunds.md', headingPath: ['Billing', 'Refunds'] },
    ]);
    expect(g.record).toMatchObject({
      provider: 'openai-compatible',
      model: 'fake-model-1',
      promptId: 'case-reply',
      promptVersion: 1,
      citedChunkIds: ['kb-refunds-1'],
      // Two emails: the customer's, and the support address in a passage (masking runs over the whole prompt).
      maskedEntities: { EMAIL: 2, CARD: 1, PHONE: 1, PERSON: 1 },
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
      { provider: provider(), masker: testMasker },
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
      { provider: provider(), masker: testMasker },
    );
    expect(g.text).toBe('Refunds for a cancelled plan are paid within 10 business days [1].');
    expect(g.decision.sendable).toBe(true);
  });

  it('abstains without calling the server when support is weak, and takes the model’s own abstention', async () => {
    const weak = await generate(
      { purpose: 'answer', query: 'Do you sell parrots on Sundays?', passages: KB },
      { provider: provider(), masker: testMasker },
    );
    expect(weak.abstained).toBe(true);
    expect(fake.seen).toHaveLength(0);
    fake.setScript([() => ({ status: 200, body: { choices: [{ message: { content: 'Not enough support: route to a person.' } }] } })]);
    const own = await generate(
      { purpose: 'answer', query: 'How long do refunds take for a cancelled plan?', passages: KB },
      { provider: provider(), masker: testMasker },
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
    const r = await maskedEmbed(provider(), testMasker, [`mail ${PERSONAL.email}`, 'refunds'], [PERSONAL.name]);
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
