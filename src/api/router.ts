import type { Context, Hono } from 'hono';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { AppError } from '../errors.ts';
import type { Principal, TokenAuthenticator } from './auth.ts';
import { PERMISSIONS, refusalHint, type Role } from './permissions.ts';
import { authorizationOf, clearSessionCookie } from './session-cookie.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** `requestId` and `log` (a child logger carrying it) are set for every request before anything else runs. */
export type AppEnv = { Variables: { principal: Principal; route: string; requestId: string; log: Logger } };

/** A success answer's documentation and the schema its body follows. */
export interface ResponseSpec {
  description: string;
  schema: z.ZodType;
}

/** What every /api route answers before it runs when its URL holds a NUL (src/api/app.ts); a route without a 400 of its own lists this. */
export const NUL_IN_URL = 'the URL contains a NUL character (%00)';

/** Documents a success answer with its body's schema. */
export const answers = (schema: z.ZodType, description: string): ResponseSpec => ({ description, schema });

/** One API route: what it accepts, who may call it (from PERMISSIONS) and what it does. */
export interface RouteDef {
  method: Method;
  path: string;
  summary: string;
  tag: string;
  body?: z.ZodType;
  /** Documented request content types other than JSON, e.g. NDJSON. */
  bodyTypes?: string[];
  query?: z.ZodType;
  /**
   * Each status the route answers with: a description, or for a success with a body, its schema too. Error
   * statuses carry the problem document (src/contracts/api), so they need only a description.
   */
  responses: Record<number, string | ResponseSpec>;
  /** Answers with an ETag and honours If-None-Match (GET) or If-Match (PATCH): documented on the operation. */
  conditional?: boolean;
  handler: (c: Context<AppEnv>) => Promise<Response>;
}

/** Who did it, as the ledger names them: the token, never the person's name. */
export const actorOf = (c: { get(key: 'principal'): Principal }) => `token:${c.get('principal').tokenId}`;

export const routeKey = (r: Pick<RouteDef, 'method' | 'path'>) => `${r.method.toUpperCase()} ${r.path}`;

export function allowedRoles(r: Pick<RouteDef, 'method' | 'path'>): readonly Role[] {
  const roles = PERMISSIONS[routeKey(r)];
  if (!roles) throw new Error(`route ${routeKey(r)} has no entry in PERMISSIONS (src/api/permissions.ts)`);
  return roles;
}

/** Runs around a route's handler once its caller is known (the rate limit, Idempotency-Key: src/api/app.ts). */
export type RouteGuard = (c: Context<AppEnv>, route: RouteDef, run: () => Promise<Response>) => Promise<Response>;

/**
 * Registers routes behind authentication and the role check. A route without a permission entry
 * stops start-up, so no route can be added unguarded.
 */
export function mount(app: Hono<AppEnv>, routes: RouteDef[], auth: TokenAuthenticator, guard?: RouteGuard): void {
  for (const r of routes) {
    const roles = allowedRoles(r);
    app.on(r.method.toUpperCase(), r.path, async (c) => {
      c.set('route', r.path);
      const { header, fromCookie } = authorizationOf(c);
      const principal = await auth.authenticate(header).catch((err: unknown) => {
        // A cookie whose token is no longer accepted goes, so the browser stops sending it.
        if (fromCookie) clearSessionCookie(c);
        throw err;
      });
      if (!roles.includes(principal.role)) {
        const hint = refusalHint(routeKey(r), principal.role);
        throw new AppError(
          'forbidden',
          `role '${principal.role}' may not call ${routeKey(r)}; allowed: ${roles.join(', ')}${hint ? `; ${hint}` : ''}`,
        );
      }
      c.set('principal', principal);
      return guard ? guard(c, r, () => r.handler(c)) : r.handler(c);
    });
  }
}
