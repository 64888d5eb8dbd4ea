export { holdoutPoint, inHoldout } from './holdout.ts';
