import type { Config } from '../config.ts';
import { verifyLedger, writeCheckpoint, type Checkpoint, type LedgerVerification } from '../ledger/index.ts';
import { openDatabase } from '../server.ts';
import { runningServerClient } from './client.ts';
import { parseCommandArgs, UsageError } from './args.ts';

/** `acs ledger verify|checkpoint`: through the running server when there is one, else on the database directly. */
export async function ledgerCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { json: { type: 'boolean' } });
  const command = positionals[0];
  if (command !== 'verify' && command !== 'checkpoint') {
    throw new UsageError(`unknown ledger command '${command ?? ''}'; try 'acs ledger verify' or 'acs ledger checkpoint'`);
  }
  const client = runningServerClient(config);
  const local = async <T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> => {
    const db = await openDatabase(config);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  };
  const viaServer = async <T>(method: 'GET' | 'POST', path: string): Promise<T> => {
    const res = await client!(method, path);
    if (res.status !== 200) throw new Error(`server answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body as T;
  };

  if (command === 'checkpoint') {
    const { checkpoint } = client
      ? await viaServer<{ checkpoint: Checkpoint | null }>('POST', '/api/v1/ledger/checkpoint')
      : { checkpoint: await local((db) => writeCheckpoint(db, config.dataDir)) };
    if (values.json) console.log(JSON.stringify({ checkpoint }));
    else if (checkpoint) console.log(`checkpoint: entry ${checkpoint.seq}, hash ${checkpoint.hash}, at ${checkpoint.at}`);
    else console.log('the ledger is empty: nothing to checkpoint');
    return 0;
  }

  const report = client
    ? await viaServer<LedgerVerification>('GET', '/api/v1/ledger/verify')
    : await local((db) => verifyLedger(db, { checkpointDir: config.dataDir }));
  const lag = `${report.lag.pending} entries waiting for the sequencer${report.lag.oldestSeconds === null ? '' : `, oldest ${report.lag.oldestSeconds.toFixed(1)} s`}`;
  if (values.json) console.log(JSON.stringify(report));
  else if (report.ok)
    console.log(`ledger ok: ${report.entries} entries, head ${report.head}; ${report.checkpoints} checkpoints hold; ${lag}`);
  else {
    const where = report.firstBadSeq === null ? 'ledger BROKEN' : `ledger BROKEN at entry ${report.firstBadSeq}`;
    console.log(`${where}: ${report.problem} (${report.entries} entries verified before it)`);
  }
  return report.ok ? 0 : 1;
}
