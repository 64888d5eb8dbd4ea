import { z } from 'zod';
import { ConsentRecordSchema } from '../../contracts/api/index.ts';
import { Timestamp, toFieldIssues } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import { confirmConsent } from '../../sense/index.ts';
import type { ApiDeps } from '../deps.ts';
import { readOptionalJson } from '../http.ts';
import { actorOf, answers, type RouteDef } from '../router.ts';

const ConfirmBody = z.strictObject({ confirmedAt: Timestamp.optional() });

/** Consent beyond its record routes: confirming a double opt-in. */
export function consentRoutes(deps: ApiDeps): RouteDef[] {
  return [
    {
      method: 'post',
      path: '/api/v1/consents/:id/confirm',
      tag: 'consents',
      body: ConfirmBody,
      summary: 'Record that the person confirmed a double opt-in grant (at `confirmedAt`, default now): from then on it grants',
      responses: {
        200: answers(ConsentRecordSchema, 'the consent record, confirmed'),
        400: 'confirmedAt before the capture or in the future',
        404: 'no such consent',
        409: 'not a double opt-in grant, or already confirmed',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = ConfirmBody.safeParse(await readOptionalJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid confirmation', toFieldIssues(body.error));
        return c.json(
          await confirmConsent(deps.db, c.req.param('id')!, {
            actor: actorOf(c),
            confirmedAt: body.data.confirmedAt,
            now: deps.clock.now(),
          }),
        );
      },
    },
  ];
}
