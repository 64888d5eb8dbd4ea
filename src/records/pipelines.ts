import { AppError } from '../errors.ts';
import type { Queryable } from '../store/index.ts';
import { selectPipelineStages, type PipelineStageRow } from './pipelines.repo.ts';

/** The pipeline an opportunity is in when none is named. */
export const DEFAULT_PIPELINE = 'acs';

/** How a stage is compared: "Needs Analysis", "needs_analysis" and "needs-analysis" are one stage. */
const loose = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

export type StageLookup =
  { ok: true; pipeline: string; stage: PipelineStageRow } | { ok: false; path: 'pipeline' | 'stage'; message: string };

/** The configured pipelines, for resolving a stage as people write it to the key opportunities store. */
export class Pipelines {
  private readonly byPipeline = new Map<string, PipelineStageRow[]>();

  constructor(rows: readonly PipelineStageRow[]) {
    for (const r of rows) {
      const list = this.byPipeline.get(r.pipeline) ?? [];
      list.push(r);
      this.byPipeline.set(r.pipeline, list);
    }
  }

  has(pipeline: string): boolean {
    return this.byPipeline.has(pipeline);
  }

  /**
   * The stage `stage` names in `pipeline` (its key or its label); with no stage, the pipeline's first. With
   * `fallback`, a pipeline that does not exist or lacks the stage gives way to the others, `fallback` first.
   */
  resolve(pipeline: string, stage: string | undefined, fallback?: string): StageLookup {
    const own = this.byPipeline.get(pipeline);
    const find = (rows: readonly PipelineStageRow[] | undefined) =>
      stage === undefined
        ? rows?.[0]
        : (rows?.find((r) => r.stage === stage) ?? rows?.find((r) => loose(r.stage) === loose(stage) || loose(r.label) === loose(stage)));
    const found = find(own);
    if (found) return { ok: true, pipeline, stage: found };
    if (fallback !== undefined) {
      const order = [fallback, ...[...this.byPipeline.keys()].filter((p) => p !== fallback)];
      for (const p of order) {
        const hit = find(this.byPipeline.get(p));
        if (hit) return { ok: true, pipeline: p, stage: hit };
      }
    }
    if (!own)
      return { ok: false, path: 'pipeline', message: `no pipeline "${pipeline}" (pipelines: ${[...this.byPipeline.keys()].join(', ')})` };
    return {
      ok: false,
      path: 'stage',
      message: `"${stage}" is not a stage of pipeline ${pipeline} (stages: ${own.map((r) => r.stage).join(', ')})`,
    };
  }
}

export async function loadPipelines(q: Queryable): Promise<Pipelines> {
  return new Pipelines(await selectPipelineStages(q));
}

/**
 * An opportunity's pipeline and stage as stored: the stage resolved to its key in the pipeline (given, the current
 * one, or the default). Fields not being written are left alone; a stage the pipeline lacks is a 422 naming it.
 */
export async function resolveOpportunityStage(
  q: Queryable,
  input: Record<string, unknown>,
  current?: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  // Neither given: the stage stays (on create, the default pipeline's first stage is the column default).
  if (input.stage === undefined && input.pipeline === undefined) return input;
  const pipeline = (input.pipeline as string | undefined) ?? (current?.pipeline as string | undefined) ?? DEFAULT_PIPELINE;
  const stage = (input.stage as string | undefined) ?? (current?.stage as string | undefined);
  const found = (await loadPipelines(q)).resolve(pipeline, stage);
  if (!found.ok) throw new AppError('validation_failed', 'invalid opportunities record', [{ path: found.path, message: found.message }]);
  // Only the fields being written: a stage change within the pipeline does not rewrite the pipeline.
  return { ...input, ...(input.pipeline !== undefined && { pipeline: found.pipeline }), stage: found.stage.stage };
}
