import { z } from 'zod';
import {
  adoptPolicies,
  describePolicySet,
  dryRunPolicies,
  listPolicyVersions,
  readPolicyVersion,
  restorePolicyVersion,
  validatePolicyCandidate,
} from '../../assure/index.ts';
import {
  PolicyDryRunSchema,
  PolicySetSchema,
  PolicyValidationSchema,
  PolicyVersionList,
  PolicyVersionSchema,
} from '../../contracts/api/index.ts';
import { toFieldIssues } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import { Lease } from '../../store/index.ts';
import type { ApiDeps } from '../deps.ts';
import { readJson } from '../http.ts';
import { actorOf, answers, NUL_IN_URL, type RouteDef } from '../router.ts';

const DRY_RUN_LEASE = 'policy-dry-run';
/** Renewed while the dry-run works; a server that died holding it frees it after this long. */
const DRY_RUN_LEASE_TTL_MS = 60_000;

/** Largest policy file a candidate may hold. */
const MAX_POLICY_FILE_BYTES = 200 * 1024;

const PolicyFile = z.strictObject({
  file: z
    .string()
    .max(100)
    .regex(/^[A-Za-z0-9][\w.-]*\.cedar$/, 'a file name ending in .cedar, without folders (letters, digits, _ . -)'),
  text: z.string().refine((t) => Buffer.byteLength(t) <= MAX_POLICY_FILE_BYTES, `at most ${MAX_POLICY_FILE_BYTES / 1024} kB`),
});

/** A complete candidate set: it replaces every current `.cedar` file; the schema stays the server's. */
const CandidateFiles = z
  .array(PolicyFile)
  .min(1)
  .max(50)
  .superRefine((files, ctx) => {
    const seen = new Set<string>();
    files.forEach((f, i) => {
      if (seen.has(f.file)) ctx.addIssue({ code: 'custom', path: [i, 'file'], message: `duplicate file name ${f.file}` });
      seen.add(f.file);
    });
  });

const ValidateBody = z.strictObject({ files: CandidateFiles });
const DryRunBody = z.strictObject({ files: CandidateFiles, days: z.number().int().min(1).max(90).default(7) });
const Reason = z.string().trim().min(1, 'say why: kept with the version, named in the ledger').max(500);
const AdoptBody = z.strictObject({ files: CandidateFiles, reason: Reason });
const RestoreBody = z.strictObject({ reason: Reason });
const VersionParam = z.coerce.number().int().min(1).max(2_147_483_647);

const versionOf = (raw: string | undefined): number => {
  const v = VersionParam.safeParse(raw);
  if (!v.success) throw new AppError('validation_failed', 'bad version', [{ path: 'version', message: 'a version number from 1' }]);
  return v.data;
};

/** The Cedar policy set: view it, validate a proposed change, dry-run it over recorded decisions (shadow mode). */
export function policyRoutes(deps: ApiDeps): RouteDef[] {
  const parse = async <T extends z.ZodType>(c: Parameters<RouteDef['handler']>[0], schema: T): Promise<z.output<T>> => {
    const body = schema.safeParse(await readJson(c, deps.config.maxBodyBytes));
    if (!body.success) throw new AppError('validation_failed', 'invalid candidate policy set', toFieldIssues(body.error));
    return body.data;
  };
  return [
    {
      method: 'get',
      path: '/api/v1/policies',
      tag: 'policies',
      summary:
        'The policy set the server runs: each file\u2019s text, the schema, every policy (id, effect, outcome, reason, file, line) and the credit approval limit',
      responses: { 200: answers(PolicySetSchema, 'the policy set in force'), 400: NUL_IN_URL },
      handler: async (c) => c.json(describePolicySet(deps.gate)),
    },
    {
      method: 'post',
      path: '/api/v1/policies/validate',
      tag: 'policies',
      body: ValidateBody,
      summary:
        'Validate a candidate policy set (all .cedar files; the schema stays the server\u2019s); invalid Cedar is ok:false with located problems',
      responses: {
        200: answers(PolicyValidationSchema, 'the validation: ok, or the located problems'),
        400: 'malformed body: missing files, a bad or duplicate file name, a file over 200 kB',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = await parse(c, ValidateBody);
        return c.json(validatePolicyCandidate(deps.gate.loaded, body.files));
      },
    },
    {
      method: 'get',
      path: '/api/v1/policies/versions',
      tag: 'policies',
      summary:
        'The adopted policy versions, newest first (at most 50), and the one in force in this process (0: the files it started from)',
      responses: { 200: answers(PolicyVersionList, 'the versions'), 400: NUL_IN_URL },
      handler: async (c) => c.json({ inForce: deps.gate.version, data: await listPolicyVersions(deps.db) }),
    },
    {
      method: 'get',
      path: '/api/v1/policies/versions/:version',
      tag: 'policies',
      summary: 'One adopted policy version with its files',
      responses: { 200: answers(PolicyVersionSchema, 'the version'), 400: 'bad version number', 404: 'no such version' },
      handler: async (c) => c.json(await readPolicyVersion(deps.db, versionOf(c.req.param('version')))),
    },
    {
      method: 'post',
      path: '/api/v1/policies/adopt',
      tag: 'policies',
      body: AdoptBody,
      summary:
        'Adopt a candidate policy set (all .cedar files; the schema stays the server\u2019s) as the next version, with a reason: validated (an invalid set is a 400 naming file:line:column), ledgered as policy.adopted, and in force at once in every process, without a restart',
      responses: {
        200: answers(PolicySetSchema, 'the policy set now in force'),
        400: 'malformed body, no reason, or an invalid candidate (issues locate each problem by file:line:column)',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = await parse(c, AdoptBody);
        await adoptPolicies(deps.db, deps.gate, body.files, { actor: actorOf(c), reason: body.reason, now: deps.clock.now() });
        return c.json(describePolicySet(deps.gate));
      },
    },
    {
      method: 'post',
      path: '/api/v1/policies/versions/:version/restore',
      tag: 'policies',
      body: RestoreBody,
      summary:
        'Roll back: adopt an older version\u2019s files again, as a new version that names it, with a reason; ledgered and in force at once in every process',
      responses: {
        200: answers(PolicySetSchema, 'the policy set now in force'),
        400: 'bad version number, or no reason',
        404: 'no such version',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const version = versionOf(c.req.param('version'));
        const body = await parse(c, RestoreBody);
        await restorePolicyVersion(deps.db, deps.gate, version, { actor: actorOf(c), reason: body.reason, now: deps.clock.now() });
        return c.json(describePolicySet(deps.gate));
      },
    },
    {
      method: 'post',
      path: '/api/v1/policies/dry-run',
      tag: 'policies',
      body: DryRunBody,
      summary:
        'Shadow mode: re-decide the decisions of the last `days` (default 7, at most 90) with a candidate policy set and list what would change; writes only a ledger entry, runs nothing',
      responses: {
        200: answers(PolicyDryRunSchema, 'what the candidate would change'),
        400: 'malformed body, or an invalid candidate (issues locate each problem)',
        413: 'body too large',
        415: 'not JSON',
        429: 'another dry-run is running',
      },
      handler: async (c) => {
        const body = await parse(c, DryRunBody);
        // A dry-run decides every recorded decision of the period again: one at a time in the cluster (a lease, so
        // a server that dies mid-run frees it), so the loop keeps its CPU.
        const lease = new Lease(deps.db, DRY_RUN_LEASE, DRY_RUN_LEASE_TTL_MS);
        if (!(await lease.acquire()))
          throw new AppError('policy.dry_run_busy', 'a policy dry-run is already running; try again when it finishes');
        const keepAlive = lease.keepAlive();
        try {
          return c.json(
            await dryRunPolicies(deps.db, deps.gate, body.files, { days: body.days, now: deps.clock.now(), actor: actorOf(c) }),
          );
        } finally {
          keepAlive.stop();
          await lease.release();
        }
      },
    },
  ];
}
