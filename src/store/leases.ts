import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queryable } from './db.ts';
import { releaseLease, takeLease } from './leases.repo.ts';

/** This process, as lease holders and job runs name it: host, pid and a random tag (pids are reused). */
export const PROCESS_ID = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

/** A holder acts only this share of the TTL after its last renewal began, so it stops before another can take over. */
const SAFE_SHARE = 0.9;

/**
 * A named lease in the database (src/store/leases.repo.ts): one holder in the cluster at a time. `acquire` takes or
 * renews it; `held` says whether this holder may still act, by its own monotonic clock (measured from before the
 * renewal was asked, so it ends before the database's expiry); `keepAlive` renews it in the background while work
 * runs longer than the TTL. On PGlite (one process) it is always this process's once taken.
 */
export class Lease {
  private heldUntil = 0;
  /** The last acquire got it: the keeper renews it (even a little late, which still works while nobody took it over). */
  private mine = false;

  constructor(
    private readonly db: Queryable,
    readonly name: string,
    readonly ttlMs: number,
    readonly holder = `${PROCESS_ID}:${randomBytes(3).toString('hex')}`,
  ) {}

  /** Takes the lease, or renews it when this holder has it; true while held. A failed query counts as not held. */
  async acquire(): Promise<boolean> {
    const asked = performance.now();
    const ok = await takeLease(this.db, this.name, this.holder, this.ttlMs).catch((err: unknown) => {
      this.heldUntil = 0;
      throw err;
    });
    this.heldUntil = ok ? asked + this.ttlMs * SAFE_SHARE : 0;
    this.mine = ok;
    return ok;
  }

  held(): boolean {
    return performance.now() < this.heldUntil;
  }

  /** Lets go, so another process takes over at once instead of after the TTL. */
  async release(): Promise<void> {
    const was = this.mine;
    this.heldUntil = 0;
    this.mine = false;
    if (was) await releaseLease(this.db, this.name, this.holder);
  }

  /** Renews the lease every third of its TTL while this holder has it; `onError` hears of a renewal that failed. */
  keepAlive(onError?: (err: unknown) => void): { stop(): void } {
    const timer = setInterval(
      () => {
        if (this.mine) this.acquire().catch((err: unknown) => onError?.(err));
      },
      Math.max(10, Math.floor(this.ttlMs / 3)),
    );
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }
}
