import type { Config } from '../config.ts';
import {
  getModel,
  listModels,
  listRetrains,
  promoteVersion,
  retrainModel,
  rollbackModel,
  runDriftCheck,
  type DriftCheckView,
  type ModelSummary,
  type RetrainView,
  type VersionView,
} from '../learn/index.ts';
import { openDatabase } from '../server.ts';
import { errorOfAnswer, runningServerClient, serverNow } from './client.ts';
import { parseCommandArgs, UsageError } from './args.ts';

/** The registry's subcommands of `acs model` (`train` is src/cli/model.ts's own; it dispatches these here). */
const REGISTRY_SUBCOMMANDS = ['list', 'promote', 'rollback', 'drift', 'retrain'];

export const REGISTRY_USAGE = `acs model list [NAME] [--json]
  acs model promote NAME VERSION [--stage champion|challenger] [--reason TEXT] [--json]
  acs model rollback NAME [--reason TEXT] [--json]
  acs model drift NAME [--json]
  acs model retrain NAME [--json]`;

const CLI_ACTOR = 'cli';

/**
 * `acs model list|promote|rollback|drift|retrain`: the model registry. Through the running server's API when one holds
 * the embedded database, otherwise on the database directly (as the `cli` actor).
 */
export async function modelRegistryCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, {
    stage: { type: 'string' },
    reason: { type: 'string' },
    json: { type: 'boolean' },
  });
  const [sub, name, version, ...extra] = positionals;
  const usage = (message: string) => new UsageError(`${message}\n${REGISTRY_USAGE}`);
  if (!sub || !REGISTRY_SUBCOMMANDS.includes(sub)) throw usage(`unknown model command '${sub ?? ''}'`);
  if (sub !== 'list' && !name) throw usage(`model ${sub} needs the model name`);
  if (sub === 'promote' && !version) throw usage('model promote needs the version, e.g. acs model promote churn 3');
  if (extra.length || (sub !== 'promote' && version))
    throw usage(`model ${sub}: unexpected argument '${[...(sub === 'promote' ? [] : [version]), ...extra].join(' ')}'`);
  const stage = values.stage ?? 'champion';
  if (sub === 'promote' && stage !== 'champion' && stage !== 'challenger')
    throw usage(`--stage must be champion or challenger, not '${stage}'`);
  if (values.stage !== undefined && sub !== 'promote') throw usage('--stage goes with model promote');
  if (values.reason !== undefined && sub !== 'promote' && sub !== 'rollback') throw usage('--reason goes with model promote or rollback');
  const versionNumber = Number(version);
  if (sub === 'promote' && !(Number.isInteger(versionNumber) && versionNumber >= 1))
    throw usage(`VERSION must be a version number (1, 2, …), not '${version}'`);
  const reason = values.reason ? { reason: values.reason } : {};

  const client = runningServerClient(config);
  let result: unknown;
  if (client) {
    const path = `/api/v1/models${name ? `/${encodeURIComponent(name)}` : ''}`;
    const res =
      sub === 'list'
        ? await client('GET', path)
        : sub === 'promote'
          ? await client('POST', `${path}/versions/${versionNumber}/promote`, { stage, ...reason })
          : sub === 'rollback'
            ? await client('POST', `${path}/rollback`, reason)
            : sub === 'drift'
              ? await client('POST', `${path}/drift`)
              : await client('POST', `${path}/retrain`);
    if (res.status >= 400) throw errorOfAnswer(res);
    result = sub === 'list' && !name ? res.body.data : res.body;
  } else {
    const db = await openDatabase(config);
    try {
      const now = await serverNow(db);
      if (sub === 'list') result = name ? { ...(await getModel(db, name)), retrains: await listRetrains(db, name) } : await listModels(db);
      else if (sub === 'promote')
        result = await promoteVersion(db, {
          name: name!,
          version: versionNumber,
          stage: stage as 'champion' | 'challenger',
          actor: CLI_ACTOR,
          now,
          ...reason,
        });
      else if (sub === 'rollback') result = await rollbackModel(db, { name: name!, actor: CLI_ACTOR, now, ...reason });
      else if (sub === 'drift') result = await runDriftCheck(db, name!, CLI_ACTOR, now);
      else result = await retrainModel(db, name!, CLI_ACTOR, now);
    } finally {
      await db.close();
    }
  }
  if (values.json) {
    console.log(JSON.stringify(result));
    return 0;
  }
  if (sub === 'list' && !name) printList(result as ModelSummary[]);
  else if (sub === 'list') printModel(result as Awaited<ReturnType<typeof getModel>> & { retrains: RetrainView[] });
  else if (sub === 'promote') {
    const v = result as VersionView;
    console.log(
      `${v.name} v${v.version} is now the ${v.stage}${v.replacedVersion && v.stage === 'champion' ? ` (replacing v${v.replacedVersion}, which is retired; acs model rollback ${v.name} goes back to it)` : ''}`,
    );
  } else if (sub === 'rollback') {
    const r = result as { name: string; from: number | string; to: VersionView };
    console.log(`${r.name}: rolled back from ${typeof r.from === 'number' ? `v${r.from}` : r.from} to v${r.to.version}, now the champion`);
  } else if (sub === 'drift') printCheck(result as DriftCheckView);
  else printRetrain(result as RetrainView);
  return 0;
}

const auc = (x: number | null | undefined) => (typeof x === 'number' ? x.toFixed(3) : '-');
const day = (iso: string | null) => (iso ? iso.slice(0, 16).replace('T', ' ') : '-');

function serving(s: { source: string; version?: number; reason?: string; id?: string }): string {
  if (s.source === 'registry') return `registry v${s.version}`;
  if (s.source === 'builtin') return `the model trained at server start (${s.id} ${s.version})`;
  if (s.source === 'rules' && s.reason) return `rules (${s.reason})`;
  return s.source === 'none' ? 'nothing registered' : 'rules';
}

function printList(models: ModelSummary[]): void {
  for (const m of models) {
    const champ = m.champion ? `champion v${m.champion.version} (${m.champion.family}, AUC ${auc(m.champion.heldOutAuc)})` : 'no champion';
    const chal = m.challenger ? `, challenger v${m.challenger.version}` : '';
    const drift = m.latestDrift
      ? `last drift check ${m.latestDrift.status} (max PSI ${m.latestDrift.maxPsi.toFixed(3)} on ${m.latestDrift.worst}, ${day(m.latestDrift.checkedAt)})`
      : 'not checked for drift yet';
    console.log(`${m.name}: ${m.versions} version${m.versions === 1 ? '' : 's'}, ${champ}${chal}; serving ${serving(m.serving)}; ${drift}`);
  }
}

function printModel(m: Awaited<ReturnType<typeof getModel>> & { retrains: RetrainView[] }): void {
  const s = m.settings;
  console.log(
    `${m.name}: serving ${serving(m.serving)}; PSI threshold ${s.psiThreshold}, auto-demote ${s.autoDemote}, checked every ${s.driftCheckHours} h`,
  );
  console.log(
    `retrain on outcomes recorded in ACS: ${s.retrainEveryDays === null ? 'off' : `every ${s.retrainEveryDays} d once a champion serves`}; ` +
      `${s.labelWindowDays}-day label window, promoted when the AUC gain's 95% CI lower bound exceeds ${s.promoteMargin}`,
  );
  if (m.versions.length === 0)
    console.log(m.trainable ? `no versions yet: POST /api/v1/models/${m.name}/train trains one from the store` : 'no versions yet');
  else {
    console.log('version  stage       family    rows  AUC    registered                        promoted');
    for (const v of m.versions) {
      const promoted = v.promotedBy ? `${v.promotedBy} ${day(v.promotedAt)}` : '-';
      console.log(
        `${String(v.version).padStart(7)}  ${v.stage.padEnd(10)}  ${v.family.padEnd(8)}  ${String(v.trainingRows).padStart(4)}  ${auc(v.metrics?.heldOut?.auc)}  ${`${v.registeredBy} ${day(v.registeredAt)}`.padEnd(32)}  ${promoted}`,
      );
    }
  }
  if (m.latestDrift) printCheck(m.latestDrift);
  if (m.retrains[0]) printRetrain(m.retrains[0]);
}

function printCheck(c: DriftCheckView): void {
  console.log(
    `drift check of ${c.name} v${c.version} at ${day(c.checkedAt)} by ${c.checkedBy}: ${c.status.toUpperCase()} (max PSI ${c.maxPsi.toFixed(3)} on ${c.worst}; threshold ${c.threshold}, watch from ${Math.min(0.1, c.threshold)}) over ${c.population} customers${c.action ? `; ${c.action}` : ''}`,
  );
  for (const f of [{ column: '(score)', ...c.score }, ...c.features])
    console.log(`  ${f.column.padEnd(18)} ${f.psi.toFixed(4)}  ${f.status}`);
}

function printRetrain(r: RetrainView): void {
  const versions = `champion ${r.championVersion === null ? 'none' : `v${r.championVersion}`}, challenger ${r.challengerVersion === null ? 'none' : `v${r.challengerVersion}`}`;
  console.log(`retrain of ${r.name} at ${day(r.ranAt)} by ${r.ranBy}: ${r.decision.replace('_', ' ')} (${versions})`);
  console.log(`  ${r.reason}`);
  console.log(
    `  labels: churned outcomes recorded in ACS from ${day(r.labels.snapshot)} to ${day(r.labels.asOf)} (${r.labels.windowDays} days); margin ${r.margin}`,
  );
}
