import { createHash } from 'node:crypto';
import type { Queryable } from '../store/index.ts';
import { churnLabelledCustomers } from '../views/index.ts';
import type { ChurnModelInput } from './churn-model.ts';

export interface ChurnExample {
  customerId: string;
  input: ChurnModelInput;
  churned: boolean;
}

/** Customers whose churn outcome is recorded (the Telco import keeps it in `attributes.churned`), with their subscription. */
export async function loadChurnExamples(q: Queryable): Promise<ChurnExample[]> {
  const rows = await churnLabelledCustomers(q);
  return rows.map((r) => ({
    customerId: r.customer_id,
    churned: r.attributes.churned === true,
    input: {
      attributes: r.attributes,
      subscription: {
        contract: r.contract,
        paymentMethod: r.payment_method,
        paperlessBilling: r.paperless_billing,
        tenureMonths: r.tenure_months,
        monthlyAmount: r.monthly_amount,
        services: r.services,
      },
    },
  }));
}

/** A short fingerprint of the training data (who, and with which outcome), used as the model version. */
export function trainingFingerprint(examples: ChurnExample[]): string {
  const hash = createHash('sha256');
  for (const e of [...examples].sort((a, b) => (a.customerId < b.customerId ? -1 : 1)))
    hash.update(`${e.customerId}:${e.churned ? 1 : 0}\n`);
  return hash.digest('hex').slice(0, 12);
}
