/**
 * pipeline: the order of the stages a batch of signals goes through (intake → identity → features → decide → act),
 * declared once. Owns no tables; it wires the stages that sense, learn and loop own onto the bus.
 */
export { STAGES, subscribePipeline, type PipelineOptions, type StageName } from './pipeline.ts';
