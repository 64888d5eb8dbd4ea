import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/api/auth.ts';
import { createLogger, createServices } from '../src/server.ts';
import { createTestApp, openTestDb, type TestApp } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const TEXT =
  'Hi, Jane Citizen here (jane.citizen+bills@example.com). Call 0412 345 678. Card 4111-1111-1111-1111, ' +
  'IBAN GB82 WEST 1234 5698 7654 32. I live at 27 Smith Street, Richmond VIC 3121. Order ORD-2024-118273.';

describe('POST /api/v1/pii/mask', () => {
  it('masks the text and gives each entity its type and offsets into the input', async () => {
    const res = await t.call('POST', '/api/v1/pii/mask', { body: { text: TEXT, names: ['Jane Citizen'] } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.text).toBe(
      'Hi, [NAME_1] here ([EMAIL_1]). Call [PHONE_1]. Card [CARD_1], IBAN [IBAN_1]. I live at [ADDRESS_1]. Order ORD-2024-118273.',
    );
    expect(res.body.entities.map((e: { type: string; start: number; end: number }) => [e.type, TEXT.slice(e.start, e.end)])).toEqual([
      ['name', 'Jane Citizen'],
      ['email', 'jane.citizen+bills@example.com'],
      ['phone', '0412 345 678'],
      ['card', '4111-1111-1111-1111'],
      ['iban', 'GB82 WEST 1234 5698 7654 32'],
      ['address', '27 Smith Street, Richmond VIC 3121'],
    ]);
    for (const e of res.body.entities) expect(Object.keys(e).sort()).toEqual(['end', 'start', 'type']);
  });

  it('every role may call it, and nobody without a token', async () => {
    for (const role of ['admin', 'reviewer', 'analyst', 'agent'] as const) {
      const res = await t.call('POST', '/api/v1/pii/mask', { role, body: { text: 'mail me: a.b@example.com' } });
      expect(res.status, role).toBe(200);
      expect(res.body).toEqual({ text: 'mail me: [EMAIL_1]', entities: [{ type: 'email', start: 9, end: 24 }] });
    }
    expect((await t.call('POST', '/api/v1/pii/mask', { token: null, body: { text: 'x' } })).status).toBe(401);
  });

  it('an empty text or one without personal data comes back as it is', async () => {
    expect((await t.call('POST', '/api/v1/pii/mask', { body: { text: '' } })).body).toEqual({ text: '', entities: [] });
    expect((await t.call('POST', '/api/v1/pii/mask', { body: { text: 'version 2.4.1 on 2024-03-15' } })).body).toEqual({
      text: 'version 2.4.1 on 2024-03-15',
      entities: [],
    });
  });

  it('bad input is a 400 problem naming the field', async () => {
    const bad = async (body: unknown) => {
      const res = await t.call('POST', '/api/v1/pii/mask', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      return res.body.issues.map((i: { path: string }) => i.path);
    };
    expect(await bad({})).toEqual(['text']);
    expect(await bad({ text: 42 })).toEqual(['text']);
    expect(await bad({ text: 'x'.repeat(20_001) })).toEqual(['text']);
    expect(await bad({ text: 'x', names: 'Jane' })).toEqual(['names']);
    expect(await bad({ text: 'x', names: [''] })).toEqual(['names.0']);
    expect(await bad({ text: 'x', extra: 1 })).toEqual(['extra']);
    expect((await t.call('POST', '/api/v1/pii/mask', { body: { text: 'x'.repeat(20_000) } })).status).toBe(200);
    expect((await t.call('POST', '/api/v1/pii/mask', { raw: '{"text": ' })).status).toBe(400);
    expect((await t.call('POST', '/api/v1/pii/mask', { raw: 'text', contentType: 'text/plain' })).status).toBe(415);
  });
});

describe('the server log', () => {
  it('holds no email or card number a request carried, in its path, query or body', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const db = await openTestDb();
    const services = createServices(db, { maxBodyBytes: 1 << 20 }, createLogger({ logLevel: 'info' }, sink));
    try {
      const { token } = await createToken(db, { role: 'admin', name: 'log test' }, 'test');
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      await services.app.request('/api/v1/customers/jane.citizen@example.com/profile', { headers });
      await services.app.request('/api/v1/nowhere/4111111111111111?email=bob@example.com', { headers });
      await services.app.request('/api/v1/pii/mask', {
        method: 'POST',
        headers,
        body: JSON.stringify({ text: 'carol@example.com 5500 0000 0000 0004' }),
      });
      const out = lines.join('');
      expect(lines.length).toBeGreaterThanOrEqual(3);
      expect(out).toContain('"route":"/api/v1/customers/:id/profile"');
      expect(out).toContain('[EMAIL]');
      for (const secret of ['jane.citizen@example.com', 'bob@example.com', 'carol@example.com', '4111111111111111', '5500 0000']) {
        expect(out, secret).not.toContain(secret);
      }
    } finally {
      await services.bus.stop();
      await db.close();
    }
  });
});
