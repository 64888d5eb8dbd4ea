import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { AppError } from '../errors.ts';

/**
 * The console's session cookie. Signing in sets it (HttpOnly, SameSite=Strict, scoped to /api), so a link opened in
 * a new tab is still signed in; API clients keep sending `Authorization: Bearer`, which wins when both are present.
 * A write authenticated by the cookie alone must carry `X-ACS-Console: 1`: another site cannot add that header to a
 * request without a CORS preflight, which ACS never grants, so the cookie cannot be used for cross-site forgery.
 */
export const SESSION_COOKIE = 'acs_session';
/**
 * Beside it, readable by the console and holding no secret: whether a session cookie was set, so a tab that never
 * signed in shows the sign-in form without first asking the server (and logging a 401 in the browser's console).
 */
export const SESSION_HINT_COOKIE = 'acs_signed_in';
export const CONSOLE_HEADER = 'x-acs-console';
/** How long a console session lasts without signing in again (the token itself may live longer). */
export const SESSION_MAX_AGE_SECONDS = 12 * 3600;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function setCookies(c: Context, token: string, hint: string, maxAge: number): void {
  const secure = new URL(c.req.url).protocol === 'https:' ? '; Secure' : '';
  c.header('set-cookie', `${SESSION_COOKIE}=${token}; Path=/api; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`, { append: true });
  c.header('set-cookie', `${SESSION_HINT_COOKIE}=${hint}; Path=/; SameSite=Strict; Max-Age=${maxAge}${secure}`, { append: true });
}

/** Sets the session cookie for `token` (and its hint) on the answer being built. */
export function setSessionCookie(c: Context, token: string): void {
  setCookies(c, encodeURIComponent(token), '1', SESSION_MAX_AGE_SECONDS);
}

/** Clears both (sign-out, or a cookie whose token is no longer accepted). */
export function clearSessionCookie(c: Context): void {
  setCookies(c, '', '', 0);
}

/**
 * The Authorization header to authenticate the request with: the request's own, or one made from the session
 * cookie. A cookie-only write without the console's header is refused (403) before any token is looked up.
 */
export function authorizationOf(c: Context): { header: string | undefined; fromCookie: boolean } {
  const header = c.req.header('authorization');
  if (header) return { header, fromCookie: false };
  const token = getCookie(c, SESSION_COOKIE);
  if (!token) return { header: undefined, fromCookie: false };
  if (!SAFE_METHODS.has(c.req.method) && c.req.header(CONSOLE_HEADER) !== '1')
    throw new AppError(
      'forbidden',
      `a request signed in by the session cookie must send ${CONSOLE_HEADER}: 1 to change anything (cross-site requests are refused)`,
    );
  return { header: `Bearer ${token}`, fromCookie: true };
}
