import { z } from 'zod';
import {
  DriftCheckSchema,
  ModelDetailSchema,
  ModelListSchema,
  ModelRollbackSchema,
  ModelSettingsSchema,
  ModelVersionSchema,
  RetrainSchema,
} from '../../contracts/api/index.ts';
import { AppError } from '../../errors.ts';
import {
  getModel,
  listModels,
  listRetrains,
  ModelSettingsInput,
  promoteVersion,
  retrainModel,
  rollbackModel,
  runDriftCheck,
  saveModelSettings,
  TrainInput,
  trainAndRegister,
} from '../../learn/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseBody, readJson, readOptionalJson } from '../http.ts';
import { actorOf, answers, NUL_IN_URL, type RouteDef } from '../router.ts';

const PromoteBody = z.strictObject({ stage: z.enum(['champion', 'challenger']), reason: z.string().trim().min(1).max(500).optional() });
const RollbackBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

function versionParam(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new AppError('validation_failed', `bad version '${raw}'`, [{ path: 'version', message: 'a version number: 1, 2, …' }]);
  return n;
}

/** The model registry: versions and stages, promotion and rollback, drift checks and their settings. */
export function modelRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  // When the registry serves nothing for churn, say what does: the model trained at start, or rules.
  const fallback = (name: string) => {
    const builtin = name === 'churn' ? deps.churn?.() : undefined;
    return builtin ? { source: 'builtin', id: 'churn-logistic', version: builtin.version } : { source: 'rules' };
  };
  const withFallback = <T extends { name: string; serving: { source: string } }>(m: T) =>
    m.serving.source === 'none' ? { ...m, serving: fallback(m.name) } : m;
  return [
    {
      method: 'get',
      path: '/api/v1/models',
      tag: 'models',
      summary:
        'The named models: champion and challenger, what serves now (registry champion, the model trained at start, or rules), drift settings and the latest drift check',
      responses: { 200: answers(ModelListSchema, 'the models'), 400: NUL_IN_URL },
      handler: async (c) => c.json({ data: (await listModels(db)).map(withFallback) }),
    },
    {
      method: 'get',
      path: '/api/v1/models/:name',
      tag: 'models',
      summary:
        'One model: its versions (stage, data fingerprint, metrics, feature schema, who registered and who promoted it), what serves, the settings, the latest drift check in full and recent ones',
      responses: { 200: answers(ModelDetailSchema, 'the model'), 400: NUL_IN_URL, 404: 'no such model' },
      handler: async (c) => {
        const name = c.req.param('name')!;
        const model = await getModel(db, name);
        return c.json({ ...withFallback(model), retrains: await listRetrains(db, name, 10) });
      },
    },
    {
      method: 'post',
      path: '/api/v1/models/:name/train',
      tag: 'models',
      body: TrainInput,
      summary:
        'Train the model on the records in the store (churn: customers with a recorded churn outcome) and register it as a candidate; options: families, seed, testFraction, folds',
      responses: {
        201: answers(ModelVersionSchema, 'the new version'),
        400: 'bad option, naming it',
        404: 'no such model',
        409: 'too few labelled examples (the message says how many there are and how many are needed)',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = parseBody(TrainInput, await readOptionalJson(c, deps.config.maxBodyBytes), 'training options');
        return c.json(await trainAndRegister(db, c.req.param('name')!, body, actorOf(c), deps.clock.now()), 201);
      },
    },
    {
      method: 'post',
      path: '/api/v1/models/:name/versions/:version/promote',
      tag: 'models',
      body: PromoteBody,
      summary:
        'Make a version the champion (it serves; the old champion is retired and remembered for rollback) or the challenger (shadow-scored beside the champion on every proposal); ledgered',
      responses: {
        200: answers(ModelVersionSchema, 'the version'),
        400: 'bad stage or version',
        404: 'no such model or version',
        409: 'already in that stage, or the champion asked to be challenger',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const version = versionParam(c.req.param('version')!);
        const body = parseBody(PromoteBody, await readJson(c, deps.config.maxBodyBytes), 'promotion');
        const input = {
          name: c.req.param('name')!,
          version,
          stage: body.stage,
          actor: actorOf(c),
          now: deps.clock.now(),
          ...(body.reason ? { reason: body.reason } : {}),
        };
        return c.json(await promoteVersion(db, input));
      },
    },
    {
      method: 'post',
      path: '/api/v1/models/:name/rollback',
      tag: 'models',
      body: RollbackBody,
      summary:
        'Back to the previous champion (the one the current champion replaced, or the one demoted to rules); ledgered as model.rolled_back',
      responses: {
        200: answers(ModelRollbackSchema, 'the rollback'),
        400: 'bad reason',
        404: 'no such model',
        409: 'no previous champion',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = parseBody(RollbackBody, await readOptionalJson(c, deps.config.maxBodyBytes), 'rollback');
        const input = {
          name: c.req.param('name')!,
          actor: actorOf(c),
          now: deps.clock.now(),
          ...(body.reason ? { reason: body.reason } : {}),
        };
        return c.json(await rollbackModel(db, input));
      },
    },
    {
      method: 'post',
      path: '/api/v1/models/:name/drift',
      tag: 'models',
      summary:
        'Check the champion for drift now: PSI of each input column and of the score, live population against the training reference; alerts (model.drift_alert) at the threshold and auto-demotes if set',
      responses: {
        200: answers(DriftCheckSchema, 'the check'),
        400: NUL_IN_URL,
        404: 'no such model',
        409: 'no champion, or no live population',
      },
      handler: async (c) => c.json(await runDriftCheck(db, c.req.param('name')!, actorOf(c), deps.clock.now())),
    },
    {
      method: 'post',
      path: '/api/v1/models/:name/retrain',
      tag: 'models',
      summary:
        'Retrain now on outcomes recorded in ACS (label: a churned outcome within labelWindowDays of the snapshot); judge the challenger against the champion on held-out customers by AUC with a 95% paired bootstrap CI; promote only when the lower bound exceeds promoteMargin; recorded and ledgered (model.retrained) whatever the decision',
      responses: {
        200: answers(RetrainSchema, 'the retrain and its decision (skipped when too few outcomes are recorded)'),
        400: NUL_IN_URL,
        404: 'no such model',
        409: 'the model cannot be retrained on outcomes, or its champion changed during the run',
      },
      handler: async (c) => c.json(await retrainModel(db, c.req.param('name')!, actorOf(c), deps.clock.now())),
    },
    {
      method: 'put',
      path: '/api/v1/models/:name/settings',
      tag: 'models',
      body: ModelSettingsInput,
      summary:
        'Replace the drift and retrain settings (fields left out take their defaults): psiThreshold (default 0.25), autoDemote (off, last_good or rules), driftCheckHours (default 24), retrainEveryDays (default 7, null for off), labelWindowDays (default 30), promoteMargin (default 0.01); ledgered',
      responses: {
        200: answers(ModelSettingsSchema, 'the settings'),
        400: 'bad setting, naming it',
        404: 'no such model',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = parseBody(ModelSettingsInput, await readJson(c, deps.config.maxBodyBytes), 'model settings');
        return c.json(await saveModelSettings(db, c.req.param('name')!, body, actorOf(c), deps.clock.now()));
      },
    },
  ];
}
