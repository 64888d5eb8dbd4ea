#!/usr/bin/env node
// Entry for the `acs` command. Registers the TypeScript loader so the CLI runs from source with no build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/index.ts');
process.exitCode = await runCli(process.argv.slice(2));
