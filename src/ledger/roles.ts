import { grantSchemaDml, type Queryable } from '../store/index.ts';
import { grantLedgerToRole } from './ledger.repo.ts';

/**
 * Grants the app's role what it needs and no more, run as the owner after migrating: DML on the schema's tables,
 * and on the ledger only read, append and the sequencer's chaining (docs/ledger.md, "Two roles").
 */
export async function grantAppRole(owner: Queryable, role: string): Promise<void> {
  await grantSchemaDml(owner, role);
  await grantLedgerToRole(owner, role);
}
