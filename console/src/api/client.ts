// The console's only way to the server: same-origin /api/v1 calls with the signed-in token, through a client typed
// by the schema generated from the server's OpenAPI document (`npm run gen:api`). No server type is re-declared here.
import createClient, { type MaybeOptionalInit, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.d.ts';

export type { paths };
export type Schemas = components['schemas'];
export type FieldIssue = Schemas['FieldIssue'];
export type Problem = Schemas['Problem'];

/** The JSON body an operation answers with on success (200, 201 or 202). */
type JsonOf<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type Ok<Op> = Op extends { responses: infer R } ? JsonOf<R[Extract<keyof R, 200 | 201 | 202>]> : never;
export type Answer<P extends keyof paths, M extends keyof paths[P]> = Ok<paths[P][M]>;
/** The JSON request body an operation takes. */
export type BodyOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

/** An error the API answered with: its code, message and the fields it named. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: FieldIssue[] = [],
    readonly body: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'acs.token';

/**
 * The signed-in session: the token in this tab's storage, or, in a tab opened from another (a link, Ctrl+click), the
 * HttpOnly session cookie that signing in set, which this code cannot read and the browser sends by itself.
 */
let viaCookie = false;
export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  save: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  /** Marks the session as the cookie's (this tab has no token of its own). */
  useCookie: () => (viaCookie = true),
  active: (): boolean => viaCookie || sessionStorage.getItem(TOKEN_KEY) !== null,
  /** Whether signing in set a session cookie (its readable hint; the cookie itself is HttpOnly). */
  cookieHint: (): boolean => document.cookie.split('; ').includes('acs_signed_in=1'),
  clear: () => {
    viaCookie = false;
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** Called when the server says the token is no longer good, so the shell can return to sign-in. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

const bearer = (token: string | null) => (token ? `Bearer ${token}` : null);

const auth: Middleware = {
  onRequest({ request }) {
    // A call may bring its own token (sign-in checks one before it is saved); otherwise the session's.
    const token = bearer(session.token());
    if (token && !request.headers.has('authorization')) request.headers.set('authorization', token);
    // Lets a write signed in by the session cookie through (the server refuses cookie-only writes without it).
    request.headers.set('x-acs-console', '1');
    return request;
  },
  onResponse({ request, response }) {
    // Only a rejection of the session in use signs out: not one of a token being tried at sign-in.
    if (response.status === 401 && session.active() && request.headers.get('authorization') === bearer(session.token())) onUnauthorized();
    return response;
  },
};

const client = createClient<paths>({ baseUrl: '' });
client.use(auth);

type Sent<D> = Promise<{ data?: D; error?: unknown; response: Response }>;

/** The body of a successful answer; any other answer (an RFC 9457 problem document) becomes an ApiError. */
async function call<D>(request: Sent<D>): Promise<D> {
  let answer: Awaited<Sent<D>>;
  try {
    answer = await request;
  } catch (err) {
    throw new ApiError(0, 'network', `the server did not answer (${(err as Error).message})`);
  }
  const { data, error, response } = answer;
  if (response.ok) return data as D;
  const problem = (error && typeof error === 'object' ? error : {}) as Partial<Problem>;
  const where = new URL(response.url || '/', location.href).pathname;
  throw new ApiError(
    response.status,
    problem.code ?? `http_${response.status}`,
    problem.detail ?? `${where} failed with ${response.status}`,
    problem.issues ?? [],
    problem as Record<string, unknown>,
  );
}

type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';
/** The paths that have an operation for `M`. */
type PathsWithMethod<Paths, M extends HttpMethod> = { [P in keyof Paths]: Paths[P] extends { [K in M]: unknown } ? P : never }[keyof Paths];

/** What a call to `path` takes besides the path: its parameters, body and headers, required when the operation needs them. */
type Init<P extends keyof paths, M extends HttpMethod> =
  MaybeOptionalInit<paths[P], M> extends infer I ? (undefined extends I ? [I?] : [I]) : never;

/**
 * Calls an operation and resolves to its success body, typed from the schema as it is (openapi-fetch's own result
 * type turns tuples into arrays); an error answer rejects with an ApiError.
 */
export function send<M extends HttpMethod, P extends PathsWithMethod<paths, M>>(
  method: M,
  path: P,
  ...init: Init<P, M>
): Promise<Answer<P, M>> {
  // The signature above checks the call; openapi-fetch's generic `request` cannot be re-instantiated over it.
  const request = client.request as (method: string, path: string, init?: unknown) => Sent<unknown>;
  return call(request(method, path, init[0])) as Promise<Answer<P, M>>;
}
export const get = <P extends PathsWithMethod<paths, 'get'>>(path: P, ...init: Init<P, 'get'>) => send('get', path, ...init);
export const post = <P extends PathsWithMethod<paths, 'post'>>(path: P, ...init: Init<P, 'post'>) => send('post', path, ...init);
export const patch = <P extends PathsWithMethod<paths, 'patch'>>(path: P, ...init: Init<P, 'patch'>) => send('patch', path, ...init);

export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = err.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    return fields ? `${err.message} (${fields})` : err.message;
  }
  return (err as Error)?.message ?? String(err);
}
