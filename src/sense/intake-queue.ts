import type { Db } from '../store/index.ts';
import { ingestSignals, type IntakeContext, type IntakeItem, type IntakeOutcome } from './intake.ts';

interface Submission {
  items: IntakeItem[];
  ctx: IntakeContext;
  resolve(outcome: IntakeOutcome): void;
  reject(err: unknown): void;
}

/** A group shares one transaction, so its submissions must agree on who sent them and from where. */
const groupKey = (ctx: IntakeContext) => `${ctx.actor}\u0000${ctx.source}\u0000${ctx.quarantine === false ? 0 : 1}`;

/**
 * Group commit for signal intake. Submissions that arrive while a transaction is running wait for it and
 * then go in together, in one transaction, so a stream of one-signal requests costs about what batches
 * do. Each caller gets back its own outcome, with its own indices. If a shared transaction fails, each
 * of its submissions is retried alone, so one bad request cannot sink the others.
 */
export class IntakeQueue {
  private waiting: Submission[] = [];
  private running = false;

  constructor(
    private readonly db: Db,
    /** Most items one shared transaction takes; a larger submission still runs, alone. */
    private readonly maxItems = 1000,
  ) {}

  submit(items: IntakeItem[], ctx: IntakeContext): Promise<IntakeOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ items, ctx, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length) await this.runGroup(this.takeGroup());
    } finally {
      this.running = false;
    }
  }

  /** The oldest submission and the later ones that can share its transaction, within the item limit. */
  private takeGroup(): Submission[] {
    const key = groupKey(this.waiting[0]!.ctx);
    const group: Submission[] = [];
    let items = 0;
    this.waiting = this.waiting.filter((s) => {
      if (groupKey(s.ctx) !== key || (group.length > 0 && items + s.items.length > this.maxItems)) return true;
      group.push(s);
      items += s.items.length;
      return false;
    });
    return group;
  }

  private async runGroup(group: Submission[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group;
      await ingestSignals(this.db, only!.items, only!.ctx).then(only!.resolve, only!.reject);
      return;
    }
    // The newest clock of the group dates it, so no signal is stamped before its request arrived.
    const now = group.reduce((latest, s) => (s.ctx.now && s.ctx.now > latest ? s.ctx.now : latest), new Date(0));
    let outcome: IntakeOutcome;
    try {
      outcome = await ingestSignals(
        this.db,
        group.flatMap((s) => s.items),
        { ...group[0]!.ctx, now: now.getTime() > 0 ? now : undefined },
      );
    } catch {
      for (const s of group) await ingestSignals(this.db, s.items, s.ctx).then(s.resolve, s.reject);
      return;
    }
    let offset = 0;
    for (const s of group) {
      const end = offset + s.items.length;
      const mine = <T extends { index: number }>(list: T[]) =>
        list.filter((x) => x.index >= offset && x.index < end).map((x) => ({ ...x, index: x.index - offset }));
      s.resolve({ accepted: mine(outcome.accepted), duplicates: mine(outcome.duplicates), rejected: mine(outcome.rejected) });
      offset = end;
    }
  }
}
