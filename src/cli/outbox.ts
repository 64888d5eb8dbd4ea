import type { Config } from '../config.ts';
import { discardParked, EVENT_ID, listParked, outboxStats, retryParked, type OutboxEvent, type OutboxStats } from '../bus/index.ts';
import { openDatabase } from '../server.ts';
import type { Db } from '../store/index.ts';
import { runningServerClient, errorOfAnswer, serverNow } from './client.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const USAGE = `acs outbox list [--json]
  acs outbox retry ID [--json]
  acs outbox discard ID --reason TEXT [--json]`;

const CLI_ACTOR = 'cli';
const PAGE = 500;

/**
 * `acs outbox list|retry|discard`: the event bus's parked events. Through the running server's API when one holds
 * the embedded database, otherwise on the database directly (as the `cli` actor).
 */
export async function outboxCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { reason: { type: 'string' }, json: { type: 'boolean' } });
  const [sub, id, ...extra] = positionals;
  const usage = (message: string) => new UsageError(`${message}\n${USAGE}`);
  if (sub !== 'list' && sub !== 'retry' && sub !== 'discard') throw usage(`unknown outbox command '${sub ?? ''}'`);
  if (sub === 'list' ? id !== undefined || extra.length : extra.length)
    throw usage(`outbox ${sub}: unexpected argument '${(sub === 'list' ? [id, ...extra] : extra).join(' ')}'`);
  if (sub !== 'list' && !id) throw usage(`outbox ${sub} needs the event id (acs outbox list shows them)`);
  if (id !== undefined && !EVENT_ID.test(id)) throw usage(`ID must be an event id (a positive integer), not '${id}'`);
  const reason = values.reason?.trim();
  if (sub === 'discard' && !reason) throw usage('outbox discard needs --reason TEXT: why the event is never to be delivered');
  if (values.reason !== undefined && sub !== 'discard') throw usage('--reason goes with outbox discard');

  const client = runningServerClient(config);
  let result: { data: OutboxEvent[]; stats: OutboxStats } | OutboxEvent;
  if (client) {
    if (sub === 'list') {
      const data: OutboxEvent[] = [];
      let stats: OutboxStats | undefined;
      for (let cursor: string | null = null, first = true; first || cursor; first = false) {
        const res = await client('GET', `/api/v1/outbox/parked?limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        if (res.status !== 200) throw errorOfAnswer(res);
        data.push(...res.body.data);
        stats = res.body.stats;
        cursor = res.body.nextCursor;
      }
      result = { data, stats: stats! };
    } else {
      const res = await client('POST', `/api/v1/outbox/parked/${id}/${sub}`, sub === 'discard' ? { reason } : undefined);
      if (res.status !== 200) throw errorOfAnswer(res);
      result = res.body as OutboxEvent;
    }
  } else {
    const db = await openDatabase(config);
    try {
      if (sub === 'list') result = { data: await listAllParked(db), stats: await outboxStats(db) };
      else if (sub === 'retry') result = await retryParked(db, Number(id), CLI_ACTOR, await serverNow(db));
      else result = await discardParked(db, Number(id), reason!, CLI_ACTOR, await serverNow(db));
    } finally {
      await db.close();
    }
  }

  if (values.json) console.log(JSON.stringify(result));
  else if ('stats' in result) printList(result.data, result.stats);
  else if (sub === 'retry')
    console.log(
      `event ${result.id} (${result.topic}) is pending again, with a fresh count of attempts; ${client || config.databaseUrl ? 'the server delivers it now' : 'the server delivers it when it next runs'}`,
    );
  else console.log(`event ${result.id} (${result.topic}) is discarded and will never be delivered`);
  return 0;
}

async function listAllParked(db: Db): Promise<OutboxEvent[]> {
  const all: OutboxEvent[] = [];
  for (let more = true; more;) {
    const page = await listParked(db, { afterId: all[all.length - 1]?.id, limit: PAGE });
    all.push(...page);
    more = page.length === PAGE;
  }
  return all;
}

function printList(events: OutboxEvent[], stats: OutboxStats): void {
  console.log(
    `outbox: ${stats.pending} pending${stats.pending ? ` (oldest ${Math.round(stats.oldestPendingAgeSeconds)} s)` : ''}, ${stats.parked} parked`,
  );
  for (const e of events) {
    console.log(
      `  ${String(e.id).padStart(8)}  ${e.topic.padEnd(20)}  ${e.attempts} attempts, parked ${e.parkedAt?.slice(0, 19).replace('T', ' ')}: ${(e.lastError ?? '').split('\n')[0]}`,
    );
  }
  if (events.length) console.log('acs outbox retry ID (after a fix) or acs outbox discard ID --reason TEXT');
}
