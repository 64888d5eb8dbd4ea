import type { Config } from '../config.ts';
import { verifyLedger, type VerifyReport } from '../ledger/index.ts';
import { openDatabase } from '../server.ts';
import { runningServerClient } from './client.ts';
import { parseCommandArgs, UsageError } from './args.ts';

export async function ledgerCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { json: { type: 'boolean' } });
  if (positionals[0] !== 'verify') throw new UsageError(`unknown ledger command '${positionals[0] ?? ''}'; try 'acs ledger verify'`);
  let report: VerifyReport;
  const client = runningServerClient(config);
  if (client) {
    const res = await client('GET', '/api/v1/ledger/verify');
    if (res.status !== 200) throw new Error(`server answered ${res.status}: ${JSON.stringify(res.body)}`);
    report = res.body as VerifyReport;
  } else {
    const db = await openDatabase(config);
    try {
      report = await verifyLedger(db);
    } finally {
      await db.close();
    }
  }
  if (values.json) console.log(JSON.stringify(report));
  else if (report.ok) console.log(`ledger ok: ${report.entries} entries, head ${report.head}`);
  else console.log(`ledger BROKEN at entry ${report.firstBadSeq}: ${report.problem} (${report.entries} entries verified before it)`);
  return report.ok ? 0 : 1;
}
