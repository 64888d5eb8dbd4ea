// The console's only way to the server: same-origin /api/v1 calls with the signed-in token.

export type Role = 'admin' | 'reviewer' | 'analyst' | 'agent';

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

export interface FieldIssue {
  path: string;
  message: string;
}

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

export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  save: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** Called when the server says the token is no longer good, so the shell can return to sign-in. */
let onUnauthorized: () => void = () => undefined;
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export async function api<T>(method: string, path: string, body?: unknown, token = session.token()): Promise<T> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, 'network', `the server did not answer (${(err as Error).message})`);
  }
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    // Errors are RFC 9457 problem documents carrying the ACS code and field issues.
    const err = parsed as { code?: string; detail?: string; issues?: FieldIssue[] } | undefined;
    if (res.status === 401 && token === session.token()) onUnauthorized();
    throw new ApiError(res.status, err?.code ?? `http_${res.status}`, err?.detail ?? `${method} ${path} failed with ${res.status}`, err?.issues ?? [], (parsed as Record<string, unknown>) ?? {});
  }
  return parsed as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);

/** Query string from the defined values only. */
export function qs(params: Record<string, string | number | undefined | null | false>): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '' && v !== false);
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
}

export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const fields = err.issues.map((i) => `${i.path}: ${i.message}`).join('; ');
    return fields ? `${err.message} (${fields})` : err.message;
  }
  return (err as Error)?.message ?? String(err);
}
