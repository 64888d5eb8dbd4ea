import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.ts';

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
