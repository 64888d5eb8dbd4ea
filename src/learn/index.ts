export { holdoutPoint, inHoldout, leadHoldoutKey } from './holdout.ts';
export { upliftReport, wilsonInterval, type GroupCounts, type UpliftReport } from './uplift.ts';
