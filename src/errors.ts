import type { FieldIssue } from './contracts/index.ts';

/**
 * What went wrong, as clients see it: each code has one HTTP status. Generic codes are for the transport (a body
 * that is not JSON, a missing token, an unknown route); domain codes (`area.what`) say which rule refused. Adding
 * a code means adding its status here (`satisfies` makes a missing one a compile error) and a line in docs/errors.md.
 */
export const ERROR_STATUS = {
  // Transport and generic
  validation_failed: 400,
  malformed_json: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal: 500,
  // API conventions: a stale If-Match, an Idempotency-Key reused with another request or still in flight, a token over its rate
  precondition_failed: 412,
  'idempotency.key_reused': 422,
  'idempotency.in_flight': 409,
  rate_limited: 429,
  // Approvals and actions
  'approval.not_found': 404,
  'approval.already_decided': 409,
  'approval.expired': 409,
  'approval.edit_over_limit': 409,
  'approval.recipient_not_consented': 422,
  'policy.denied': 403,
  'policy.dry_run_busy': 429,
  'policy.version_not_found': 404,
  'kill_switch.on': 409,
  'agent.paused': 409,
  'agent.not_found': 404,
  'execution.key_reused': 409,
  // Records and customers
  'record.not_found': 404,
  'record.version_conflict': 409,
  'record.already_exists': 409,
  'customer.not_found': 404,
  'customer.not_live': 409,
  'consent.not_confirmable': 409,
  // Identity
  'merge.not_found': 404,
  'merge.conflict': 409,
  'review.not_found': 404,
  'review.already_decided': 409,
  'identity.too_few_people': 409,
  // Quarantine
  'quarantine.not_found': 404,
  'quarantine.already_resolved': 409,
  'quarantine.not_a_signal': 409,
  // Models
  'model.not_found': 404,
  'model.stage_conflict': 409,
  'model.not_ready': 409,
  // Knowledge
  'knowledge.source_not_found': 404,
  'knowledge.source_conflict': 409,
  // Work items: tasks to assign or complete, plays to retry or cancel
  'task.not_found': 404,
  'task.not_open': 409,
  'play.not_found': 404,
  'play.wrong_state': 409,
  // Outbox
  'outbox.not_found': 404,
  'outbox.not_parked': 409,
  // Webhooks
  'webhook.not_found': 404,
  'webhook.delivery_not_found': 404,
  // Ledger
  'ledger.no_data_dir': 409,
  // Generation: the configured language model did not answer (after its retries) or refused
  'generation.provider_failed': 502,
} as const satisfies Record<string, 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 429 | 500 | 502>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code);

/** The one exception type for expected failures; the API maps it to a 4xx body, the CLI to a message. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: FieldIssue[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
