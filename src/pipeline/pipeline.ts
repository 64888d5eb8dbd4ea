import type { Bus, BusHandler } from '../bus/index.ts';
import { subscribeBanditUpdates } from '../learn/index.ts';
import { batchParent, inSpan, SpanKind, spanIds, tracingEnabled } from '../lib/index.ts';
import { subscribeDecisionLoop, type LoopOptions, type LoopTally } from '../loop/index.ts';
import { SIGNALS_ACCEPTED, subscribeFeatureUpdates, type SignalsAcceptedEvent } from '../sense/index.ts';

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
    if (i <= last) stage.subscribe?.(tracedBus(bus, stage.name), opts);
  });
}

/**
 * The bus as one stage sees it: each delivery to the stage's handlers runs in a `deliver <topic>` span that continues
 * the trace the events were published in (src/bus publish), around a `stage <name>` span. Only subscribing changes.
 */
function tracedBus(bus: Bus, stage: string): Bus {
  const subscribe = (topic: string, handler: BusHandler) => bus.subscribe(topic, tracedHandler(stage, topic, handler));
  return new Proxy(bus, {
    get: (target, key) => {
      if (key === 'subscribe') return subscribe;
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function tracedHandler(stage: string, topic: string, handler: BusHandler): BusHandler {
  return (messages, q) => {
    if (!tracingEnabled()) return handler(messages, q);
    // A batch joins the traces of its events: the first is the parent, the others are links.
    const { parent, links } = batchParent(messages.map((m) => m.payload));
    const signalIds = topic === SIGNALS_ACCEPTED ? messages.flatMap((m) => (m.payload as SignalsAcceptedEvent).signalIds ?? []) : [];
    return inSpan(
      `deliver ${topic}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          'messaging.system': 'acs',
          'messaging.operation.type': 'process',
          'messaging.destination.name': topic,
          'messaging.batch.message_count': messages.length,
          'acs.event.ids': spanIds(messages.map((m) => String(m.id))),
        },
      },
      () =>
        inSpan(
          `stage ${stage}`,
          {
            attributes: {
              'acs.stage': stage,
              'acs.signal.count': signalIds.length,
              ...(signalIds.length ? { 'acs.signal.ids': spanIds(signalIds) } : {}),
            },
          },
          () => handler(messages, q),
        ),
      parent,
    );
  };
}
