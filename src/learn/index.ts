export { holdoutPoint, inHoldout, leadHoldoutKey } from './holdout.ts';
export { upliftReport, wilsonInterval, type GroupCounts, type UpliftReport } from './uplift.ts';
export { agentStats, agentUplift, dayRange, DEFAULT_DENY, kpis, type AgentMeasure, type AgentStats, type AgentUplift, type DayRange, type Kpis } from './kpis.ts';
