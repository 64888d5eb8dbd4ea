import { loadChurnExamples, type ChurnModelInput } from '../reason/index.ts';
import type { Queryable } from '../store/index.ts';
import { churnLiveCustomers, churnOutcomeCustomers, type CustomerSubscriptionRow } from '../views/index.ts';
import type { RawRow } from './models/types.ts';

/**
 * What the registry can train a named model on from the store: its labelled rows, and the live population it
 * scores (for drift). Rows are flat raw tables, as the training library reads them; a customer is turned into a
 * row the same way for training, for scoring in the loop and for drift, so the three always agree.
 */
export interface ModelDataset {
  name: string;
  /** What a labelled example is, for messages. */
  describe: string;
  target: string;
  positive: string;
  loadTraining(q: Queryable): Promise<RawRow[]>;
  /** The population the model scores now, at most `limit` rows. */
  loadLive(q: Queryable, limit: number): Promise<RawRow[]>;
  /**
   * Rows labelled from outcomes recorded in ACS: the population at risk at `snapshot`, the target set by whether the
   * outcome was recorded in [snapshot, asOf). Each with its customer id (for splitting by customer).
   */
  loadOutcomeLabelled?(q: Queryable, snapshot: Date, asOf: Date): Promise<{ customerId: string; row: RawRow }[]>;
}

const SERVICES = [
  'phoneService',
  'multipleLines',
  'internetService',
  'onlineSecurity',
  'onlineBackup',
  'deviceProtection',
  'techSupport',
  'streamingTv',
  'streamingMovies',
] as const;
const DEMOGRAPHICS = ['gender', 'seniorCitizen', 'partner', 'dependents'] as const;

const cell = (v: unknown): string | number | boolean | null =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;

/**
 * A customer as the churn models read it: the subscription (contract, billing, services) and demographics. The
 * outcome (`attributes.churned`) is never a feature: it is the target column, and only training rows carry it.
 */
export function churnRow(input: ChurnModelInput): Record<string, string | number | boolean | null> {
  const s = input.subscription;
  const row: Record<string, string | number | boolean | null> = {
    contract: cell(s.contract),
    paymentMethod: cell(s.paymentMethod),
    paperlessBilling: cell(s.paperlessBilling),
    // numeric columns arrive from PostgreSQL as strings or numbers; the library parses either.
    tenureMonths: cell(s.tenureMonths),
    monthlyAmount: cell(s.monthlyAmount),
  };
  for (const k of SERVICES) row[k] = cell(s.services?.[k]);
  for (const k of DEMOGRAPHICS) row[k] = cell(input.attributes[k]);
  return row;
}

export const CHURN_TARGET = 'churned';

const subscriptionRow = (r: CustomerSubscriptionRow) =>
  churnRow({
    attributes: r.attributes,
    subscription: {
      contract: r.contract,
      paymentMethod: r.payment_method,
      paperlessBilling: r.paperless_billing,
      tenureMonths: r.tenure_months,
      monthlyAmount: r.monthly_amount,
      services: r.services,
    },
  });

const churnDataset: ModelDataset = {
  name: 'churn',
  describe: 'customers with a recorded churn outcome (attributes.churned true or false) and a subscription',
  target: CHURN_TARGET,
  positive: 'true',
  async loadTraining(q) {
    const examples = await loadChurnExamples(q);
    return examples.map((e) => ({ ...churnRow(e.input), [CHURN_TARGET]: e.churned }));
  },
  async loadLive(q, limit) {
    // Everyone with a subscription, as training reads them (cancelled ones included), newest accounts first when capped.
    const rows = await churnLiveCustomers(q, limit);
    return rows.map(subscriptionRow);
  },
  async loadOutcomeLabelled(q, snapshot, asOf) {
    // The label is ACS's own record (a `churned` outcome signal in the window), never the imported attribute.
    const rows = await churnOutcomeCustomers(q, snapshot, asOf);
    return rows.map((r) => ({ customerId: r.customer_id, row: { ...subscriptionRow(r), [CHURN_TARGET]: r.churned } }));
  },
};

/** The named models the registry trains from the store. */
export const MODEL_DATASETS: Record<string, ModelDataset> = { churn: churnDataset };
