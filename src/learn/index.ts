export { holdoutPoint, inHoldout } from './holdout.ts';
export { upliftReport, wilsonInterval, type GroupCounts, type UpliftReport } from './uplift.ts';
