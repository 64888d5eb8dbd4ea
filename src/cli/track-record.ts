import type { Config } from '../config.ts';
import { TRACK_WINDOW_DAYS, trackRecords, type TrackRecord } from '../learn/index.ts';
import { readThroughServerOrDb, serverNow } from './client.ts';
import { parseCommandArgs, UsageError } from './args.ts';

function render(records: TrackRecord[]): string {
  if (records.length === 0)
    return `No decision with a verdict in the last ${TRACK_WINDOW_DAYS} days: every agent starts with no track record.`;
  const lines = [
    `Track records over the last ${TRACK_WINDOW_DAYS} days, as policy sees them (context.agentDecisions, context.agentPrecision):`,
  ];
  for (const t of records) {
    const by = Object.entries(t.rejectedBy)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
    lines.push(
      `  ${`${t.agentId} / ${t.action}`.padEnd(34)} decisions ${String(t.decisions).padStart(4)}  precision ${(t.precisionBp / 100).toFixed(2).padStart(6)}%  approved ${t.approved}  rejected ${t.rejected}${by ? ` (${by})` : ''}`,
    );
  }
  return lines.join('\n');
}

/** `acs track-record [--json]`: each agent's precision per action over the window earned autonomy uses. */
export async function trackRecordCommand(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError(`acs track-record takes no arguments, got '${positionals[0]}'`);
  const byName = (a: TrackRecord, b: TrackRecord) => (a.agentId + a.action < b.agentId + b.action ? -1 : 1);
  const records = await readThroughServerOrDb(
    config,
    '/api/v1/agents/stats',
    (body) => body.trackRecord.data as TrackRecord[],
    async (db) => [...(await trackRecords(db, { now: await serverNow(db) })).values()].sort(byName),
  );
  console.log(values.json ? JSON.stringify(records) : render(records));
  return 0;
}
