import type { Logger } from 'pino';
import type { PlayRegistry } from '../act/index.ts';
import type { PolicyGate } from '../assure/index.ts';
import type { Bus } from '../bus/index.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../store/index.ts';
import { seedContactsAndConsents, WorldDriver, worldFromDatabase } from './driver.ts';
import { insertWorldClock, readWorldClock, saveWorldClock } from './world.repo.ts';

const DAY_MS = 86_400_000;

/**
 * Simulated time running `speed` times faster than real time from an anchor. With a limit set (holdAt), it never
 * passes the limit: it stops there and, once the limit moves on, resumes from it. The live world holds the business
 * clock at the end of the day it is simulating, so a day that takes longer than its real time to simulate does not
 * let decisions, approvals and their expiry run ahead of the world.
 */
export class AcceleratedClock implements Clock {
  private realAnchorMs = Date.now();
  private limitMs: number | null = null;

  constructor(
    private simAnchorMs: number,
    readonly speed: number,
  ) {}

  now(): Date {
    const t = this.simAnchorMs + (Date.now() - this.realAnchorMs) * this.speed;
    if (this.limitMs !== null && t > this.limitMs) {
      // Held: time stands at the limit, and starts again from it when the limit moves.
      this.simAnchorMs = this.limitMs;
      this.realAnchorMs = Date.now();
      return new Date(this.limitMs);
    }
    return new Date(t);
  }

  /** The time the clock may not pass (ms since the epoch), or null for none. */
  holdAt(limitMs: number | null): void {
    this.limitMs = limitMs;
  }
}

export interface WorldClockState {
  seed: number;
  /** Midnight (UTC) of day 0. */
  startDay: Date;
  nextDay: number;
  simNow: Date;
}

/**
 * The live world's clock, resumed from where it was saved (a first start begins today, at the current
 * time). `daySeconds` real seconds make one simulated day.
 */
export async function openWorldClock(
  db: Db,
  opts: { seed: number; daySeconds: number },
): Promise<{ clock: AcceleratedClock; state: WorldClockState }> {
  const row = await readWorldClock(db);
  let state: WorldClockState;
  if (row) {
    state = { seed: row.seed, startDay: new Date(row.start_day), nextDay: row.next_day, simNow: new Date(row.sim_now) };
  } else {
    const now = new Date();
    state = { seed: opts.seed, startDay: new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS), nextDay: 0, simNow: now };
    await insertWorldClock(db, { seed: state.seed, startDay: state.startDay.toISOString(), simNow: state.simNow.toISOString() });
  }
  return { clock: new AcceleratedClock(state.simNow.getTime(), DAY_MS / 1000 / opts.daySeconds), state };
}

export interface LiveWorldDeps {
  db: Db;
  bus: Bus;
  gate: PolicyGate;
  plays: PlayRegistry;
  clock: AcceleratedClock;
  state: WorldClockState;
  reviewer: 'human' | 'sim';
  log: Logger;
}

/**
 * Runs the world beside the server: whenever the accelerated clock passes the end of a simulated day, that
 * day's signals go through the API's own intake and the agents act on them. A restart resumes the clock and
 * the day count; the simulated people restart from their baselines, and those recorded as churned stay gone.
 */
/** Signals per intake transaction in the live world: small, so the API waits at most a short transaction for the database. */
const LIVE_INTAKE_BATCH = 50;

export async function startLiveWorld(deps: LiveWorldDeps): Promise<{ stop(): Promise<void> }> {
  const { db, clock, state, log } = deps;
  await seedContactsAndConsents(db, state.seed, clock.now());
  const driver = await WorldDriver.create({
    db: deps.db,
    bus: deps.bus,
    gate: deps.gate,
    plays: deps.plays,
    world: await worldFromDatabase(db, state.seed),
    start: state.startDay.toISOString(),
    reviewer: deps.reviewer,
    intakeBatch: LIVE_INTAKE_BATCH,
  });
  log.info(
    { customers: driver.world.customers.length, day: state.nextDay, clock: clock.now().toISOString(), speed: clock.speed },
    `live world running: one simulated day every ${Math.round(DAY_MS / 1000 / clock.speed)} s`,
  );
  // Business time (the server's clock) stops at the end of the day being simulated until that day is done.
  const dayEnds = (d: number) => state.startDay.getTime() + (d + 1) * DAY_MS;
  clock.holdAt(dayEnds(state.nextDay));
  let stopped = false;
  let busy = false;
  let running: Promise<void> = Promise.resolve();
  const save = async () => {
    state.simNow = clock.now();
    await saveWorldClock(db, state.nextDay, state.simNow.toISOString());
  };
  const tick = async () => {
    // Days end in order. The clock waits at a day's end while the day runs, so it never gets ahead of the world.
    if (!stopped && clock.now().getTime() >= dayEnds(state.nextDay)) {
      const started = Date.now();
      const day = await driver.runDay(state.nextDay);
      state.nextDay += 1;
      clock.holdAt(dayEnds(state.nextDay));
      await save();
      log.info(
        {
          world: {
            day: day.day,
            signals: day.signals,
            reviewed: day.reviewed,
            delivered: day.delivered,
            outcomes: day.outcomes.length,
            ms: Date.now() - started,
          },
        },
        `simulated day ${day.day} done`,
      );
    } else await save();
  };
  const timer = setInterval(
    () => {
      if (busy) return;
      busy = true;
      running = tick()
        .catch((err: unknown) => log.error({ err }, 'live world tick failed; the next tick tries again'))
        .finally(() => (busy = false));
    },
    Math.min(1000, DAY_MS / clock.speed / 4),
  );
  timer.unref();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * The live world as `acs serve --world` runs it beside the server: its clock opens before the server's services
 * (which run on it), and the world starts once the customers are loaded.
 */
export function liveWorld(opts: { seed: number; daySeconds: number; reviewer: 'human' | 'sim' }) {
  let opened: { clock: AcceleratedClock; state: WorldClockState } | undefined;
  return {
    openClock: async (db: Db): Promise<AcceleratedClock> => (opened = await openWorldClock(db, opts)).clock,
    start: (deps: Omit<LiveWorldDeps, 'clock' | 'state' | 'reviewer'>): Promise<{ stop(): Promise<void> }> => {
      if (!opened) throw new Error("the live world's clock was not opened");
      return startLiveWorld({ ...deps, clock: opened.clock, state: opened.state, reviewer: opts.reviewer });
    },
  };
}
