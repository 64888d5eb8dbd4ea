import { AppError } from '../errors.ts';
import type { FieldIssue } from '../contracts/index.ts';

/** Where a Cedar (or annotation) problem sits: the file, and a 1-based line and column when known. */
export interface PolicyProblem {
  file: string;
  line?: number;
  column?: number;
  message: string;
}

function formatProblem(p: PolicyProblem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}: ${p.message}`;
}

/** A policy set that does not read, parse or validate. Stops start-up; the message says what to fix and where. */
export class PolicyLoadError extends Error {
  constructor(
    readonly dir: string,
    readonly problems: PolicyProblem[],
  ) {
    super(`invalid policies in ${dir}:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'PolicyLoadError';
  }
}

/** A decision request that does not match the contract (including an unknown action). Never decided, never allowed. */
export class PolicyRequestError extends AppError {
  constructor(issues: FieldIssue[]) {
    super('validation_failed', `invalid policy request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
    this.name = 'PolicyRequestError';
  }
}
