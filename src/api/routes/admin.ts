import { z } from 'zod';
import { toFieldIssues } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import { listLedger, verifyLedger, writeCheckpoint } from '../../ledger/index.ts';
import { actorNames, approvalsAbout } from '../../views/index.ts';
import { createToken, listTokens, recordLogin, recordLogout, revokeToken } from '../auth.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery, readJson } from '../http.ts';
import { ROLES } from '../permissions.ts';
import { actorOf, answers, type RouteDef } from '../router.ts';
import { authorizationOf, clearSessionCookie, setSessionCookie } from '../session-cookie.ts';
import {
  CreatedTokenSchema,
  LedgerCheckpointSchema,
  LedgerPageSchema,
  LedgerVerifySchema,
  PrincipalSchema,
  TokenListSchema,
} from '../../contracts/api/index.ts';

const TokenInput = z.strictObject({ role: z.enum(ROLES), name: z.string().trim().min(1).max(100) });
const LedgerQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().min(1).optional(),
  subjectId: z.string().max(200).optional(),
  type: z.string().max(100).optional(),
});

/** Identity, tokens and the ledger. */
export function adminRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  return [
    {
      method: 'get',
      path: '/api/v1/me',
      tag: 'auth',
      summary: 'Who this token is',
      responses: { 200: answers(PrincipalSchema, 'who this token is') },
      handler: async (c) => c.json(c.get('principal')),
    },
    {
      method: 'post',
      path: '/api/v1/auth/login',
      tag: 'auth',
      summary:
        'Sign in with a token (the console does this); recorded in the ledger. Sets the console session cookie (HttpOnly, SameSite=Strict), so a new tab stays signed in',
      responses: { 200: answers(PrincipalSchema, 'who this token is; the sign-in is ledgered') },
      handler: async (c) => {
        const p = c.get('principal');
        await recordLogin(db, p, actorOf(c), deps.clock.now());
        const { header } = authorizationOf(c);
        const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
        if (token) setSessionCookie(c, token);
        return c.json(p);
      },
    },
    {
      method: 'post',
      path: '/api/v1/auth/logout',
      tag: 'auth',
      summary: 'Sign out of the console: clears the session cookie (the token itself stays valid until revoked); recorded in the ledger',
      responses: { 204: 'signed out' },
      handler: async (c) => {
        await recordLogout(db, c.get('principal'), actorOf(c), deps.clock.now());
        clearSessionCookie(c);
        return c.body(null, 204);
      },
    },
    {
      method: 'get',
      path: '/api/v1/tokens',
      tag: 'auth',
      summary: 'List API tokens (never their secrets)',
      responses: { 200: answers(TokenListSchema, '{ data }: every token, revoked ones too') },
      handler: async (c) => c.json({ data: await listTokens(db) }),
    },
    {
      method: 'post',
      path: '/api/v1/tokens',
      tag: 'auth',
      summary: 'Create a token; the secret is shown once',
      body: TokenInput,
      responses: {
        201: answers(CreatedTokenSchema, 'the token with its secret, shown this once'),
        400: 'bad role or name',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = TokenInput.safeParse(await readJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid token request', toFieldIssues(body.error));
        return c.json(await createToken(db, body.data, actorOf(c), deps.clock.now()), 201);
      },
    },
    {
      method: 'delete',
      path: '/api/v1/tokens/:id',
      tag: 'auth',
      summary: 'Revoke a token',
      responses: { 204: 'revoked', 404: 'no active token' },
      handler: async (c) => {
        await revokeToken(db, c.req.param('id')!, actorOf(c), deps.clock.now());
        deps.auth.forget();
        return c.body(null, 204);
      },
    },
    {
      method: 'get',
      path: '/api/v1/ledger',
      tag: 'ledger',
      summary: 'Ledger entries, newest first; page with ?before=<seq>',
      query: LedgerQuery,
      responses: { 200: answers(LedgerPageSchema, '{ data, nextBefore }'), 400: 'bad query parameter' },
      handler: async (c) => {
        const q = parseQuery(c, LedgerQuery);
        const entries = await listLedger(db, q);
        const [names, about] = await Promise.all([
          actorNames(
            db,
            entries.map((e) => e.actor),
          ),
          approvalsAbout(
            db,
            entries.filter((e) => e.subjectType === 'approvals' && e.subjectId).map((e) => e.subjectId!),
          ),
        ]);
        const data = entries.map((e) => {
          const who = names.get(e.actor)!;
          return {
            ...e,
            actorName: who.name,
            actorKind: who.kind,
            actorRole: who.role,
            about: e.subjectType === 'approvals' && e.subjectId ? (about.get(e.subjectId) ?? null) : null,
          };
        });
        return c.json({ data, nextBefore: data.length === q.limit ? data[data.length - 1]!.seq : null });
      },
    },
    {
      method: 'get',
      path: '/api/v1/ledger/verify',
      tag: 'ledger',
      summary:
        'Chain what waits, recompute the hash chain and check every signed checkpoint of the data dir is still in it: { ok, entries, head, firstBadSeq, checkpoints, lag }',
      responses: { 200: answers(LedgerVerifySchema, 'the report (ok may be false)') },
      handler: async (c) => c.json(await verifyLedger(db, { checkpointDir: deps.config.dataDir })),
    },
    {
      method: 'post',
      path: '/api/v1/ledger/checkpoint',
      tag: 'ledger',
      summary: 'Chain what waits and record the head as a signed checkpoint in the data dir (the server also does it periodically)',
      responses: { 200: answers(LedgerCheckpointSchema, '{ checkpoint }'), 409: 'the server has no data dir to record it in' },
      handler: async (c) => {
        const dir = deps.config.dataDir;
        if (!dir) throw new AppError('ledger.no_data_dir', 'this server has no data dir to record checkpoints in');
        return c.json({ checkpoint: await writeCheckpoint(db, dir) });
      },
    },
  ];
}
