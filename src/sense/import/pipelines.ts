import { PipelineStageInput, toFieldIssues } from '../../contracts/index.ts';
import { upsertPipelineStages, type PipelineStageRow } from '../../records/index.ts';
import { fieldTypes } from './headers.ts';
import type { EntityPlan } from './import.ts';

/**
 * `acs import pipeline-stages`: sets the stages of opportunity pipelines, one row per stage (pipeline, stage, label,
 * position, outcome, probability). A stage that exists is replaced; stages not in the file stay.
 */
export function pipelineStagesPlan(): EntityPlan<PipelineStageRow> {
  return {
    entity: 'pipeline-stages',
    tables: [],
    target: { entity: 'pipeline-stages', fields: fieldTypes(PipelineStageInput), aliases: {}, extrasField: null },
    prepare: (values) => {
      const parsed = PipelineStageInput.safeParse(values);
      if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error) };
      return { ok: true, item: { ...parsed.data, probability: parsed.data.probability ?? null } };
    },
    keys: (item) => [`${item.pipeline}:${item.stage}`],
    write: async (tx, items, ctx) => {
      const written = await upsertPipelineStages(tx, items);
      return {
        inserted: written.filter((w) => w.inserted).length,
        updated: written.filter((w) => !w.inserted).length,
        events: written.map((w) => ({
          type: w.inserted ? 'pipeline_stage.created' : 'pipeline_stage.updated',
          actor: ctx.actor,
          subjectType: 'pipeline_stages',
          subjectId: `${w.pipeline}/${w.stage}`,
          data: { via: 'import' },
          at: ctx.now,
        })),
      };
    },
  };
}
