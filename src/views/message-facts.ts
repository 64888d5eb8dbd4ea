/**
 * What an outbound message may state about its customer: the plan (the subscription's contract), the monthly amount,
 * the tenure and, for a notice that follows a case, the case's subject. Read only; the grounded body is act's.
 */
import type { Queryable } from '../store/index.ts';

export interface MessageFactsRow {
  contract: string | null;
  monthly_amount: number | string | null;
  tenure_months: number | null;
  case_subject: string | null;
}

/** The account's first live subscription and, when `caseId` is given, that case's subject (of this account only). */
export async function readMessageFacts(q: Queryable, accountId: string | null, caseId: string | null): Promise<MessageFactsRow> {
  if (!accountId) return { contract: null, monthly_amount: null, tenure_months: null, case_subject: null };
  const [row] = await q.query<MessageFactsRow>(
    `SELECT s.contract, s.monthly_amount, s.tenure_months,
            (SELECT c.subject FROM cases c WHERE c.id = $2 AND c.account_id = $1) AS case_subject
     FROM (SELECT 1) one
     LEFT JOIN LATERAL (SELECT contract, monthly_amount, tenure_months FROM subscriptions
                        WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1) s ON true`,
    [accountId, caseId],
  );
  return row ?? { contract: null, monthly_amount: null, tenure_months: null, case_subject: null };
}
