import { PiiMaskRequestSchema, PiiMaskResultSchema } from '../../contracts/api/index.ts';
import { maskPii } from '../../trust/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseBody, readJson } from '../http.ts';
import { answers, type RouteDef } from '../router.ts';

/** The trust layer over HTTP: masking personal data in a text, as it is masked before text leaves for a model. */
export function trustRoutes(deps: ApiDeps): RouteDef[] {
  return [
    {
      method: 'post',
      path: '/api/v1/pii/mask',
      tag: 'trust',
      body: PiiMaskRequestSchema,
      summary:
        'Masks the personal data in `text` (at most 20,000 characters): emails, phone numbers, payment cards (Luhn), IBANs (mod 97), US SSNs, UK NI numbers, Australian TFNs, street addresses and PO boxes, and the `names` given. Each becomes a typed placeholder ([EMAIL_1], [PHONE_2], …; the same value, the same placeholder); `entities` gives each one\u2019s type and its `start`/`end` offsets into the input (UTF-16 code units, end exclusive). Nothing is stored.',
      responses: {
        200: answers(PiiMaskResultSchema, '{ text, entities: [{ type, start, end }] }'),
        400: 'missing or non-string text, text over 20,000 characters, bad names, unknown fields, or malformed JSON',
        413: 'body over the server\u2019s limit',
        415: 'not application/json',
      },
      handler: async (c) => {
        const body = parseBody(PiiMaskRequestSchema, await readJson(c, deps.config.maxBodyBytes), 'mask request');
        const { text, entities } = maskPii(body.text, { names: body.names });
        return c.json({ text, entities });
      },
    },
  ];
}
