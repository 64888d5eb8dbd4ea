/**
 * supervisor: watches each agent against its own trailing baseline (proposals, denials and rejections, precision,
 * complaints after its actions, credit budget burn) and pauses an agent that trips a threshold, with the reason and a
 * ledger entry; only an admin resumes it. Owns table supervisor_settings (supervisor.repo.ts).
 */
export {
  DEFAULT_THRESHOLDS,
  loadThresholds,
  superviseAgents,
  SupervisorThresholds,
  TRIGGERS,
  updateThresholds,
  type AutoPause,
  type Trigger,
} from './supervisor.ts';
