import { z } from 'zod';
import { AccountInput, Attributes, RECORD_INPUTS, ShortText, SubscriptionInput, toFieldIssues } from '../../contracts/index.ts';
import { anyAccountExists, countAccounts, nameAccountsAfterCustomerId, takenCustomerIds } from '../../records/index.ts';
import type { Db, Tx } from '../../store/index.ts';
import { completeDemoLoad, demoLoad, startDemoLoad } from './demo.repo.ts';
import { fieldTypes } from './headers.ts';
import {
  countOps,
  naturalKeys,
  runImport,
  scanCsv,
  writeRecords,
  type EntityPlan,
  type ImportOptions,
  type ImportSummary,
  type Prepared,
  type RecordItem,
} from './import.ts';

// The composite `customers` entity: one row of the IBM Telco churn export becomes a person account
// (demographics and the churn outcome in attributes) plus the subscription it pays for.

const required = <T extends z.ZodType>(t: z.ZodOptional<z.ZodNullable<T>>): T => t.unwrap().unwrap();

// The export writes "No phone service" / "No internet service" where the base service is absent.
const ServiceFlag = z
  .string()
  .trim()
  .regex(/^(yes|no|true|false|1|0|no [a-z ]+ service)$/i, 'must be Yes, No or "No … service"')
  .optional();

const CustomerRow = z.strictObject({
  customerId: AccountInput.shape.customerId,
  name: AccountInput.shape.name.optional(),
  churn: z.boolean().optional(),
  gender: z.enum(['female', 'male']).optional(),
  female: z.boolean().optional(),
  seniorCitizen: z.boolean().optional(),
  partner: z.boolean().optional(),
  dependents: z.boolean().optional(),
  tenureMonths: required(SubscriptionInput.shape.tenureMonths),
  monthlyAmount: required(SubscriptionInput.shape.monthlyAmount),
  totalBilled: SubscriptionInput.shape.totalBilled,
  contract: SubscriptionInput.shape.contract,
  paymentMethod: SubscriptionInput.shape.paymentMethod,
  paperlessBilling: SubscriptionInput.shape.paperlessBilling,
  phoneService: ServiceFlag,
  multipleLines: ServiceFlag,
  internetService: ShortText.optional(),
  onlineSecurity: ServiceFlag,
  onlineBackup: ServiceFlag,
  deviceProtection: ServiceFlag,
  techSupport: ServiceFlag,
  streamingTv: ServiceFlag,
  streamingMovies: ServiceFlag,
  attributes: Attributes.optional(),
});
type CustomerRow = z.infer<typeof CustomerRow>;

const SERVICE_FLAGS = [
  'phoneService',
  'multipleLines',
  'onlineSecurity',
  'onlineBackup',
  'deviceProtection',
  'techSupport',
  'streamingTv',
  'streamingMovies',
] as const;

const CUSTOMER_ALIASES: Record<string, readonly string[]> = {
  churn: ['churned', 'churn label', 'exited'],
  gender: ['sex'],
  female: ['is female'],
  seniorCitizen: ['senior'],
  tenureMonths: ['tenure', 'tenure in months'],
  monthlyAmount: ['monthly charges', 'monthly charge', 'monthly fee', 'mrr'],
  totalBilled: ['total charges', 'total spend'],
};

const SubscriptionFields = SubscriptionInput.omit({ accountId: true });

interface CustomerItem {
  account: RecordItem;
  /** Subscription fields; the account id is filled in once the account is written. */
  subscription: Record<string, unknown>;
  /** False when the name waits for the customer id the database generates. */
  named: boolean;
}

const compact = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const isYes = (v: string) => /^(yes|true|1)$/i.test(v);

function accountOf(row: CustomerRow): RecordItem {
  const gender = row.gender ?? (row.female === undefined ? undefined : row.female ? 'female' : 'male');
  const attributes = compact({
    ...row.attributes,
    gender,
    seniorCitizen: row.seniorCitizen,
    partner: row.partner,
    dependents: row.dependents,
    // The learn module trains on this outcome.
    churned: row.churn,
  });
  return {
    input: compact({ customerId: row.customerId, name: row.name, attributes }),
    defaults: { kind: 'person', name: row.customerId ? `Customer ${row.customerId}` : 'Customer' },
  };
}

function subscriptionOf(row: CustomerRow): Record<string, unknown> {
  const flags = Object.fromEntries(SERVICE_FLAGS.flatMap((f) => (row[f] === undefined ? [] : [[f, isYes(row[f])]])));
  return compact({
    status: row.churn === undefined ? undefined : row.churn ? 'cancelled' : 'active',
    contract: row.contract,
    paymentMethod: row.paymentMethod,
    paperlessBilling: row.paperlessBilling,
    tenureMonths: row.tenureMonths,
    monthlyAmount: row.monthlyAmount,
    totalBilled: row.totalBilled,
    services: compact({ ...flags, internetService: row.internetService }),
  });
}

/** Checks the row, then that the account and subscription it yields pass the record contracts as the API would. */
function prepareCustomer(values: Record<string, unknown>): Prepared<CustomerItem> {
  const row = CustomerRow.safeParse(values);
  if (!row.success) return { ok: false, issues: toFieldIssues(row.error) };
  const account = accountOf(row.data);
  const subscription = subscriptionOf(row.data);
  const accountCheck = RECORD_INPUTS.accounts.create.safeParse({ ...account.defaults, ...account.input });
  if (!accountCheck.success) return { ok: false, issues: toFieldIssues(accountCheck.error) };
  const subscriptionCheck = SubscriptionFields.safeParse(subscription);
  if (!subscriptionCheck.success) return { ok: false, issues: toFieldIssues(subscriptionCheck.error) };
  return { ok: true, item: { account, subscription, named: row.data.name !== undefined || row.data.customerId !== undefined } };
}

/** Accounts whose customer id came from the database sequence are named once that id is known. */
async function nameNewAccounts(tx: Tx, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await nameAccountsAfterCustomerId(tx, ids);
}

const demoCustomerId = (row: number) => `CUST-${String(row).padStart(6, '0')}`;

/** The items whose customer id no account holds (one an admin deleted meanwhile stays taken): what is left to load. */
async function notYetLoaded(tx: Tx, items: CustomerItem[]): Promise<CustomerItem[]> {
  const ids = items.flatMap((i) => (typeof i.account.input.customerId === 'string' ? [i.account.input.customerId] : []));
  const present = new Set(await takenCustomerIds(tx, ids));
  return items.filter((i) => !present.has(i.account.input.customerId as string));
}

/**
 * With `demo`, a row without a customer id gets CUST-<row number> (what the database sequence would give it in an
 * empty system, but not after a crash lost some of its numbers), and rows whose customer is already there are left as
 * they are: loading the file again writes only the customers still missing.
 */
export function customersPlan(opts: { demo?: boolean } = {}): EntityPlan<CustomerItem> {
  return {
    entity: 'customers',
    tables: ['accounts', 'subscriptions'],
    target: { entity: 'customers', fields: fieldTypes(CustomerRow), aliases: CUSTOMER_ALIASES, extrasField: 'attributes' },
    prepare: (values, row) =>
      prepareCustomer(opts.demo && values.customerId === undefined ? { ...values, customerId: demoCustomerId(row) } : values),
    keys: (item) => naturalKeys(['customerId'], item.account.input),
    write: async (tx, batch, ctx) => {
      const items = opts.demo ? await notYetLoaded(tx, batch) : batch;
      if (items.length === 0) return { inserted: 0, updated: 0, events: [] };
      // Matched by customer id only: the subscription of a matched account is the one updated, by account id.
      const accounts = await writeRecords(
        tx,
        'accounts',
        items.map((i) => i.account),
        ctx,
        ['customerId'],
      );
      await nameNewAccounts(
        tx,
        accounts.written.flatMap((w, i) => (w.op === 'created' && !items[i]!.named ? [w.record.id] : [])),
      );
      const subscriptions = items.map((item, i) => ({ input: { accountId: accounts.written[i]!.record.id, ...item.subscription } }));
      const subs = await writeRecords(tx, 'subscriptions', subscriptions, ctx, ['accountId']);
      return { ...countOps(accounts.written), events: [...accounts.events, ...subs.events] };
    },
  };
}

const DEMO_DATASET = 'telco';

export interface DemoLoadOptions {
  onProgress?: ImportOptions['onProgress'];
  /** The server's clock, which dates the load's ledger entries. */
  clock?: ImportOptions['clock'];
  /** Called before an interrupted load resumes, with the accounts it had written and the rows of the file. */
  onResume?: (present: number, total: number) => void;
}

export type DemoLoad =
  | { status: 'loaded'; summary: ImportSummary; resumedAt: number | null }
  | { status: 'already-loaded' }
  /** Accounts exist that no demo load wrote (the system's own data): the demo is not mixed into them. */
  | { status: 'not-empty' };

/**
 * Imports the Telco churn file as customers into an empty system. The load is marked started before its first batch
 * and completed after its last, so a load killed midway resumes on the next start, writing only the customers still
 * missing (each row's customer id is its row number); each batch commits with its ledger entries, so nothing is
 * written twice.
 */
export async function loadDemoCustomers(db: Db, file: string, opts: DemoLoadOptions = {}): Promise<DemoLoad> {
  const marker = await demoLoad(db, DEMO_DATASET);
  if (marker?.completed) return { status: 'already-loaded' };
  if (!marker && (await anyAccountExists(db))) return { status: 'not-empty' };
  const { total } = await scanCsv(file);
  let resumedAt: number | null = null;
  if (marker) {
    resumedAt = await countAccounts(db);
    opts.onResume?.(resumedAt, total);
  } else await startDemoLoad(db, DEMO_DATASET, total);
  const summary = await runImport(db, customersPlan({ demo: true }), file, {
    actor: 'system',
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  await completeDemoLoad(db, DEMO_DATASET);
  return { status: 'loaded', summary, resumedAt };
}
