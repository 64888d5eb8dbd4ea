/** The events sense publishes, apart from the code that publishes them, so subscribers (features) need not import intake. */

export const SIGNALS_ACCEPTED = 'signals.accepted';

export interface SignalsAcceptedEvent {
  signalIds: string[];
  accountIds: string[];
  /** Leads the batch touched; absent in events written before leads joined the loop. */
  leadIds?: string[];
  /** The signal types the batch brought each account or lead (agents run on the types their manifest names); absent in older events. */
  typesBySubject?: Record<string, string[]>;
  /** The event time features and decisions use (the newest signal, or the intake's clock). */
  asOf: string;
  /** Wall-clock time the batch was taken in, for signal-to-decision latency; absent in older events. */
  receivedAt?: string;
}
