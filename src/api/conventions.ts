import { DEFAULT_RATE_LIMIT } from '../config.ts';
import { AppError } from '../errors.ts';
import type { ApiDeps } from './deps.ts';
import { idempotency } from './idempotency.ts';
import { problemOfAppError, respondProblem } from './problem.ts';
import { TokenBuckets } from './rate-limit.ts';
import type { RouteGuard } from './router.ts';

/**
 * What every authenticated route gets once its caller is known: the rate limit per token (a 429 with Retry-After),
 * then, on POST, Idempotency-Key (src/api/idempotency.ts). docs/api.md, "Conventions for integrators", says both.
 */
export function conventionsGuard(deps: ApiDeps): RouteGuard {
  const buckets = new TokenBuckets(deps.config.rateLimit ?? DEFAULT_RATE_LIMIT);
  const idempotent = idempotency(deps.db, deps.config.maxBodyBytes);
  return async (c, route, run) => {
    const wait = buckets.take(c.get('principal').tokenId);
    if (wait > 0) {
      const res = respondProblem(
        c,
        problemOfAppError(
          new AppError('rate_limited', `this token is over its rate limit; retry after ${wait} s`, [], { retryAfterSeconds: wait }),
          c.req.path,
        ),
      );
      res.headers.set('retry-after', String(wait));
      return res;
    }
    return route.method === 'post' ? idempotent(c, run) : run();
  };
}
