import type { Context } from 'hono';
import type { FieldIssue } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import type { AppEnv } from './router.ts';

/**
 * Error bodies as RFC 9457 problem details. Beside the standard members they carry the ACS error `code`, the
 * field `issues` and whatever the error adds (for example `quarantineId`), so clients branch on `code`; `requestId`
 * is the request's id (the X-Request-Id header, and the `requestId` of its log lines), added when answering.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  issues?: FieldIssue[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** `validation_failed` → "Validation failed"; `approval.expired` → "Approval expired". */
const titleOf = (code: string) => {
  const words = code.replace(/[._]/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

export function problem(
  status: number,
  code: string,
  detail: string,
  instance: string,
  issues: FieldIssue[] = [],
  extra: Record<string, unknown> = {},
): Problem {
  return {
    ...extra,
    type: `urn:acs:problem:${code}`,
    title: titleOf(code),
    status,
    detail,
    instance,
    code,
    ...(issues.length ? { issues } : {}),
  };
}

/** Answers with a problem document carrying the request's id; a 401 also says how to authenticate. */
export function respondProblem(c: Context<AppEnv>, body: Problem): Response {
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE };
  if (body.status === 401) headers['www-authenticate'] = 'Bearer realm="acs"';
  const requestId = c.get('requestId');
  return c.body(JSON.stringify(requestId ? { ...body, requestId } : body), body.status as 400, headers);
}

export function problemOfAppError(err: AppError, instance: string): Problem {
  return problem(err.status, err.code, err.message, instance, err.issues, err.extra);
}
