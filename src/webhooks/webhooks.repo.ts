import type { Queryable, Tx } from '../store/index.ts';

/** An endpoint as stored. */
export interface EndpointRow {
  id: string;
  url: string;
  event_types: string[];
  description: string;
  secret: string;
  enabled: boolean;
  from_seq: number;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

/** A delivery as stored. */
export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_type: string;
  ledger_seq: number;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** A delivery claimed for sending, with what sending needs of its endpoint. */
export interface ClaimedDelivery extends DeliveryRow {
  url: string;
  secret: string;
}

const ENDPOINT_COLUMNS = 'id, url, event_types, description, secret, enabled, from_seq, created_by, created_at, updated_at';
const DELIVERY_COLUMNS =
  'id, endpoint_id, event_type, ledger_seq, body, status, attempts, next_attempt_at, last_attempt_at, last_status_code, last_error, created_at, delivered_at';

export async function insertEndpoint(tx: Tx, e: Omit<EndpointRow, 'updated_at'>): Promise<EndpointRow> {
  const [row] = await tx.query<EndpointRow>(
    `INSERT INTO webhook_endpoints (id, url, event_types, description, secret, enabled, from_seq, created_by, created_at, updated_at)
     VALUES ($1, $2, $3::text[], $4, $5, $6, $7, $8, $9, $9) RETURNING ${ENDPOINT_COLUMNS}`,
    [e.id, e.url, e.event_types, e.description, e.secret, e.enabled, e.from_seq, e.created_by, e.created_at],
  );
  return row!;
}

export async function selectEndpoint(db: Queryable, id: string, forUpdate = false): Promise<EndpointRow | undefined> {
  const [row] = await db.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row;
}

/** Endpoints in creation order, after the cursor's id. */
export function selectEndpoints(db: Queryable, opts: { afterId?: string; limit: number }): Promise<EndpointRow[]> {
  return db.query<EndpointRow>(
    `SELECT ${ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE ($1::text IS NULL OR id > $1) ORDER BY id LIMIT $2`,
    [opts.afterId ?? null, opts.limit],
  );
}

/** The endpoints that take events: enabled ones. */
export function selectEnabledEndpoints(db: Queryable): Promise<Pick<EndpointRow, 'id' | 'event_types' | 'from_seq'>[]> {
  return db.query('SELECT id, event_types, from_seq FROM webhook_endpoints WHERE enabled ORDER BY id');
}

export async function updateEndpoint(
  tx: Tx,
  id: string,
  change: { url?: string; event_types?: string[]; description?: string; enabled?: boolean },
  now: Date,
): Promise<EndpointRow | undefined> {
  const [row] = await tx.query<EndpointRow>(
    `UPDATE webhook_endpoints
        SET url = COALESCE($2, url), event_types = COALESCE($3::text[], event_types),
            description = COALESCE($4, description), enabled = COALESCE($5, enabled), updated_at = $6
      WHERE id = $1 RETURNING ${ENDPOINT_COLUMNS}`,
    [id, change.url ?? null, change.event_types ?? null, change.description ?? null, change.enabled ?? null, now],
  );
  return row;
}

export async function deleteEndpoint(tx: Tx, id: string): Promise<boolean> {
  const rows = await tx.query('DELETE FROM webhook_endpoints WHERE id = $1 RETURNING id', [id]);
  return rows.length > 0;
}

/** Takes the webhook reader's advisory lock for the transaction, one per schema; false at once when another holds it. */
export async function tryReaderLock(tx: Tx, key: number): Promise<boolean> {
  const [row] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema())) AS ok', [key]);
  return row?.ok === true;
}

/** The last ledger sequence number read for webhooks; none before the first endpoint. */
export async function selectCursor(db: Queryable): Promise<number | undefined> {
  const [row] = await db.query<{ last_seq: number }>('SELECT last_seq FROM webhook_cursor WHERE id = 1');
  return row?.last_seq;
}

/** Starts the cursor at `seq` unless it already runs. */
export async function startCursor(tx: Tx, seq: number): Promise<void> {
  await tx.query('INSERT INTO webhook_cursor (id, last_seq) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [seq]);
}

export async function moveCursor(tx: Tx, seq: number): Promise<void> {
  await tx.query('UPDATE webhook_cursor SET last_seq = $1 WHERE id = 1 AND last_seq < $1', [seq]);
}

/** Writes deliveries; one already written for the same endpoint, entry and type is left as it is. */
export async function insertDeliveries(
  tx: Tx,
  rows: { id: string; endpoint_id: string; event_type: string; ledger_seq: number; body: string; created_at: Date }[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const inserted = await tx.query(
    `INSERT INTO webhook_deliveries (id, endpoint_id, event_type, ledger_seq, body, status, attempts, next_attempt_at, created_at)
     SELECT t.id, t.endpoint_id, t.event_type, t.ledger_seq, t.body, 'pending', 0, t.created_at, t.created_at
       FROM jsonb_to_recordset($1::jsonb) AS t(id text, endpoint_id text, event_type text, ledger_seq bigint, body text, created_at timestamptz)
     ON CONFLICT (endpoint_id, ledger_seq, event_type) DO NOTHING RETURNING id`,
    [JSON.stringify(rows)],
  );
  return inserted.length;
}

/**
 * Claims up to `limit` due deliveries of enabled endpoints: their next attempt moves to `until`, so no other process
 * sends them meanwhile (rows another transaction holds are skipped); a process that dies mid-send leaves them due
 * again at `until`.
 */
export function claimDue(tx: Tx, now: Date, until: Date, limit: number): Promise<ClaimedDelivery[]> {
  return tx.query<ClaimedDelivery>(
    `WITH due AS (
       SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND e.enabled
        ORDER BY d.next_attempt_at, d.id LIMIT $3 FOR UPDATE OF d SKIP LOCKED)
     UPDATE webhook_deliveries d SET next_attempt_at = $2 FROM due, webhook_endpoints e
      WHERE d.id = due.id AND e.id = d.endpoint_id
     RETURNING ${DELIVERY_COLUMNS.split(', ')
       .map((c) => `d.${c}`)
       .join(', ')}, e.url, e.secret`,
    [now, until, limit],
  );
}

/** Records one attempt's outcome. */
export async function recordAttempt(
  db: Queryable,
  id: string,
  outcome: {
    status: DeliveryRow['status'];
    at: Date;
    nextAttemptAt: Date | null;
    statusCode: number | null;
    error: string | null;
  },
): Promise<void> {
  await db.query(
    `UPDATE webhook_deliveries
        SET status = $2, attempts = attempts + 1, last_attempt_at = $3, next_attempt_at = $4, last_status_code = $5,
            last_error = $6, delivered_at = CASE WHEN $2 = 'delivered' THEN $3 ELSE delivered_at END
      WHERE id = $1`,
    [id, outcome.status, outcome.at, outcome.nextAttemptAt, outcome.statusCode, outcome.error],
  );
}

/** An endpoint's deliveries, newest first, before the cursor's id. */
export function selectDeliveries(db: Queryable, endpointId: string, opts: { beforeId?: string; limit: number }): Promise<DeliveryRow[]> {
  return db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries
      WHERE endpoint_id = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
    [endpointId, opts.beforeId ?? null, opts.limit],
  );
}

export async function selectDelivery(db: Queryable, endpointId: string, id: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.query<DeliveryRow>(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 AND id = $2`, [
    endpointId,
    id,
  ]);
  return row;
}

/** Puts a delivery back for sending now with a fresh count of attempts (a replay); its id and body stay. */
export async function resetDelivery(tx: Tx, endpointId: string, id: string, now: Date): Promise<DeliveryRow | undefined> {
  const [row] = await tx.query<DeliveryRow>(
    `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $3, delivered_at = NULL
      WHERE endpoint_id = $1 AND id = $2 RETURNING ${DELIVERY_COLUMNS}`,
    [endpointId, id, now],
  );
  return row;
}
