import type { Bus } from '../bus/index.ts';
import { subscribeBanditUpdates } from '../learn/index.ts';
import { subscribeDecisionLoop, type LoopOptions, type LoopTally } from '../loop/index.ts';
import { subscribeFeatureUpdates } from '../sense/index.ts';

export interface PipelineOptions {
  /** The decide stage's settings; without them agents do not run (features and the bandits' learning still do). */
  decide?: LoopOptions;
  /** Told each accepted batch's decision tally. */
  onTally?: (t: LoopTally) => void;
  /** The last stage to subscribe (a bench of intake and features stops there); default: every stage. */
  until?: StageName;
}

interface Stage {
  name: string;
  /** Where it runs: in the request that takes the signals in, or on the bus, in one delivery, in this order. */
  runs: 'request' | 'bus';
  does: string;
  subscribe?: (bus: Bus, opts: PipelineOptions) => void;
}

/**
 * The stages a batch of signals goes through, in order. This list is the one place the order is written: every
 * bus subscriber of the pipeline is added by `subscribePipeline` in this order, and a delivery calls subscribers in
 * the order they were added, so features are refreshed before agents read them.
 */
export const STAGES = [
  { name: 'intake', runs: 'request', does: 'validate each signal, quarantine what fails, store the rest, publish signals.accepted' },
  { name: 'identity', runs: 'request', does: "place the people a new profile names (inside intake's transaction)" },
  {
    name: 'features',
    runs: 'bus',
    does: 'refresh the features of the customers the batch touched',
    subscribe: (bus) => subscribeFeatureUpdates(bus),
  },
  {
    name: 'decide',
    runs: 'bus',
    does: 'outcomes update the bandits; then agents propose, arbitration ranks, the holdout is held out, policy decides',
    subscribe: (bus, opts) => {
      // Outcomes update the offer and channel bandits' posteriors before agents next draw from them.
      subscribeBanditUpdates(bus);
      if (opts.decide) subscribeDecisionLoop(bus, opts.decide, opts.onTally);
    },
  },
  { name: 'act', runs: 'bus', does: "run what policy allowed, or start the retention play (in the decide stage's transaction)" },
] as const satisfies readonly Stage[];

export type StageName = (typeof STAGES)[number]['name'];

/** Subscribes the pipeline's bus stages, in order. The server, `acs simulate` and the benches all wire the bus here. */
export function subscribePipeline(bus: Bus, opts: PipelineOptions = {}): void {
  const last = STAGES.findIndex((s) => s.name === (opts.until ?? 'act'));
  STAGES.forEach((stage: Stage, i) => {
    if (i <= last) stage.subscribe?.(bus, opts);
  });
}
