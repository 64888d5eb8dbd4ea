import type { MiddlewareHandler } from 'hono';
import type { Queryable } from '../store/index.ts';
import { maskClassified, maskPii, personKeysIn } from '../trust/index.ts';
import { personNamesOf } from '../views/index.ts';
import type { Role } from './permissions.ts';
import type { AppEnv } from './router.ts';

/**
 * The roles that see personal data masked in every answer. The analyst reads for insight, never to serve a person;
 * reviewers need the recipient and the body they approve, agents the contact point they act on, admins everything.
 */
export const MASKED_ROLES: readonly Role[] = ['analyst'];

/**
 * The one place the API masks personal data by role: after the route (or the error handler) has answered, an answer
 * to a masked role has its JSON masked by the trust layer's classification (src/trust/classification.ts), with the
 * names of the people it names (by their ids) masked in its free text too. It runs on every /api route, whatever the
 * method, query or Accept header, so no route or parameter can bypass it; a body that is not JSON is masked as text.
 */
export function maskForRole(db: Queryable): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await next();
    const role = c.get('principal')?.role;
    if (!role || !MASKED_ROLES.includes(role)) return;
    c.res = await maskResponse(db, c.res);
  };
}

async function maskResponse(db: Queryable, res: Response): Promise<Response> {
  if (res.body === null) return res;
  const type = res.headers.get('content-type') ?? '';
  const text = await res.text();
  let masked: string;
  let document: unknown = undefined;
  if (/\bjson\b/i.test(type)) {
    try {
      document = JSON.parse(text);
    } catch {
      document = undefined;
    }
  }
  if (document !== undefined) {
    const names = await personNamesOf(db, personKeysIn(document));
    masked = JSON.stringify(maskClassified(document, { names }));
  } else masked = maskPii(text).text;
  const headers = new Headers(res.headers);
  headers.delete('content-length');
  return new Response(masked, { status: res.status, statusText: res.statusText, headers });
}
