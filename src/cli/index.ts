/**
 * cli: the `acs` command line, and the composition root. Owns argument parsing and each command's wiring; it is
 * the one place that may put the demo world (sim/, world/) beside the product, for `acs serve --world` and
 * `acs simulate`.
 */
export { runCli, type Command } from './main.ts';
