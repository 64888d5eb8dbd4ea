export { holdoutPoint, inHoldout, leadHoldoutKey } from './holdout.ts';
export { upliftReport, wilsonInterval, type GroupCounts, type UpliftReport } from './uplift.ts';
export { agentStats, dayRange, DEFAULT_DENY, kpis, type AgentStats, type AgentUplift, type DayRange, type Kpis, type RegisteredAgent } from './kpis.ts';
