import type { Config } from '../config.ts';
import { compactErasures, type CompactionResult } from '../privacy/index.ts';
import { openDatabase } from '../server.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { errorOfAnswer, runningServerClient, serverNow } from './client.ts';

const USAGE = `acs privacy compact [--only-new] [--json]`;
const CLI_ACTOR = 'cli';

/**
 * `acs privacy compact`: compaction after erasure (src/privacy/compaction.ts), through the running server's API when
 * one holds the embedded database, otherwise on the database directly. Exits 1 when a step could not be done, so a
 * script never takes a partial compaction for a complete one.
 */
export async function privacyCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { 'only-new': { type: 'boolean' }, json: { type: 'boolean' } });
  const [sub, ...extra] = positionals;
  if (sub !== 'compact') throw new UsageError(`unknown privacy command '${sub ?? ''}'\n${USAGE}`);
  if (extra.length) throw new UsageError(`privacy compact: unexpected argument '${extra.join(' ')}'\n${USAGE}`);
  // By default the erasures whose last compaction fell short are tried again too: run after fixing what it reported.
  const retryIncomplete = !values['only-new'];

  let result: CompactionResult;
  const client = runningServerClient(config);
  if (client) {
    const res = await client('POST', '/api/v1/privacy/compact', { retryIncomplete });
    if (res.status !== 200) throw errorOfAnswer(res);
    result = res.body as CompactionResult;
  } else {
    const db = await openDatabase(config);
    try {
      result = await compactErasures(db, { actor: CLI_ACTOR, now: await serverNow(db), retryIncomplete });
    } finally {
      await db.close();
    }
  }

  if (values.json) console.log(JSON.stringify(result));
  else if (result.erasureIds.length === 0) console.log('no erasure is due for compaction');
  else {
    console.log(`compacted ${result.erasureIds.length} erasure(s): ${result.complete ? 'every step done' : 'NOT complete, see the steps'}`);
    for (const s of result.steps) console.log(`  ${s.step.padEnd(10)} ${s.done ? 'done' : 'NOT DONE'}: ${s.detail}`);
  }
  return result.complete ? 0 : 1;
}
