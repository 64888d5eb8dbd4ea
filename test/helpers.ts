import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import { migrate, openPglite, openPostgres, type Db } from '../src/store/index.ts';
import pino from 'pino';
import { createToken } from '../src/api/auth.ts';
import { NatsBus, renewBusIdentity, type Bus } from '../src/bus/index.ts';
import type { Role } from '../src/api/permissions.ts';
import type { PolicyGate } from '../src/assure/index.ts';
import type { Clock } from '../src/clock.ts';
import type { Config } from '../src/config.ts';
import type { Provider } from '../src/ground/index.ts';
import { createServices, type Services } from '../src/server.ts';
import { ContractChecker } from './contract.ts';
/**
 * A migrated, empty database for one test file: PGlite in memory by default, or an isolated schema on
 * the PostgreSQL server named by DATABASE_URL, so the same suite runs on both backends.
 */
export async function openTestDb(): Promise<Db> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await openPglite(undefined, await pgliteImage());
    await renewBusIdentity(db);
    await migrate(db);
    return db;
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const db = await openPostgres(url, { schema, max: 4 });
  await migrate(db);
  // The schema goes when the test file is done, so repeated runs leave the server clean.
  return {
    ...db,
    close: async () => {
      await db.query(`DROP SCHEMA ${schema} CASCADE`);
      await db.close();
    },
  };
}

let image: Promise<Blob> | undefined;
/** The migrated image test/global-setup.ts wrote, read once per test file. */
function pgliteImage(): Promise<Blob> {
  image ??= readFile(inject('pgliteImage')).then((bytes) => new Blob([bytes]));
  return image;
}

/** The NATS server the suite runs its buses on when ACS_NATS_URL is set (`ACS_NATS_URL=nats://127.0.0.1:4222 npm test`). */
export const testNats = () => (process.env.ACS_NATS_URL ? { url: process.env.ACS_NATS_URL } : undefined);

/** Stops a test's bus; on NATS its streams go too, as its database does. */
export async function stopTestBus(bus: Bus): Promise<void> {
  await (bus instanceof NatsBus ? bus.stop({ deleteStreams: true }) : bus.stop());
}

/**
 * A response body as tests read it: loosely typed on purpose, because the assertions are what check its shape.
 */
export type ResponseBody = any;

export interface TestApp extends Services {
  tokens: Record<Role, string>;
  /** Calls the app in process, as `role` unless a token is given; the answer is checked against the OpenAPI document. */
  call(
    method: string,
    path: string,
    opts?: { body?: unknown; raw?: string; contentType?: string; role?: Role; token?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; body: ResponseBody; text: string; headers: Headers }>;
  close(): Promise<void>;
}

/** The real HTTP app over a fresh database, with one token per role; optionally on a clock of the test's own and other policies. */
export async function createTestApp(
  opts: {
    maxBodyBytes?: number;
    loop?: { holdoutFraction: number };
    clock?: Clock;
    gate?: PolicyGate;
    consoleDir?: string;
    outbox?: Config['outbox'];
    /** A language-model provider for generation (a fake one in tests); default none: the embedded composer. */
    provider?: Provider;
    /** A migrated database of the test's own (one on disk, say); default openTestDb's. The app closes it. */
    db?: Db;
    /** The rate limit per token; default the configured default (high enough that no test meets it). */
    rateLimit?: Config['rateLimit'];
  } = {},
): Promise<TestApp> {
  const db = opts.db ?? (await openTestDb());
  // Agents stay off unless a test asks for them, so record and signal tests see only their own effects.
  const loop = opts.loop
    ? { churn: () => undefined, holdout: { salt: 'test', fraction: opts.loop.holdoutFraction }, dailyCreditBudgetCents: 100_000 }
    : undefined;
  const services = createServices(
    db,
    { maxBodyBytes: opts.maxBodyBytes ?? 1024 * 1024, outbox: opts.outbox, nats: testNats(), rateLimit: opts.rateLimit },
    pino({ level: 'silent' }),
    {
      loop,
      clock: opts.clock,
      gate: opts.gate,
      consoleDir: opts.consoleDir,
      provider: opts.provider,
    },
  );
  const contract = new ContractChecker(await (await services.app.request('/api/openapi.json')).json());
  const tokens = {} as Record<Role, string>;
  for (const role of ['admin', 'reviewer', 'analyst', 'agent'] as Role[])
    tokens[role] = (await createToken(db, { role, name: `test ${role}` }, 'test')).token;
  return {
    ...services,
    tokens,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const token = o.token === undefined ? tokens[o.role ?? 'admin'] : o.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined = o.raw;
      if (o.body !== undefined) body = JSON.stringify(o.body);
      if (body !== undefined) headers['content-type'] ??= o.contentType ?? 'application/json';
      const res = await services.app.request(path, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = undefined;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      contract.check(method, path, res.status, res.headers.get('content-type'), parsed);
      return { status: res.status, body: parsed, text, headers: res.headers };
    },
    async close() {
      await stopTestBus(services.bus);
      await db.close();
    },
  };
}

export const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();

/** A month-to-month customer with a contact who consented to service email: what the loop's agents work on. */
export async function troubledCustomer(app: TestApp, customerId: string) {
  const acc = await app.call('POST', '/api/v1/accounts', { body: { name: `Customer ${customerId}`, customerId, kind: 'person' } });
  await app.call('POST', '/api/v1/subscriptions', {
    body: { accountId: acc.body.id, contract: 'month-to-month', monthlyAmount: 80, tenureMonths: 3 },
  });
  const contact = await app.call('POST', '/api/v1/contacts', {
    body: { accountId: acc.body.id, email: `${customerId.toLowerCase()}@example.com` },
  });
  await app.call('POST', '/api/v1/consents', {
    body: {
      contactId: contact.body.id,
      channel: 'email',
      purpose: 'service',
      status: 'granted',
      source: 'signup',
      capturedAt: daysAgo(100),
    },
  });
  return acc.body.id as string;
}

/** Three angry tickets in the last days and nothing else: service recovery's triggers fire, retention's do not. */
export const ticketTrouble = (customerId: string, n: number) =>
  [1, 2, 3].map((d) => ({
    id: `${customerId}-t-${n}-${d}`,
    type: 'support_ticket',
    occurredAt: daysAgo(d),
    subject: { customerId },
    data: { text: 'Broken again, terrible, I am furious and want to cancel.' },
  }));

/** Two payment failures and three angry tickets in the last days: enough for retention and service recovery to act. */
export const trouble = (customerId: string, n: number) => [
  ...[1, 2].map((d) => ({
    id: `${customerId}-pf-${n}-${d}`,
    type: 'payment_failed',
    occurredAt: daysAgo(d),
    subject: { customerId },
    data: { amount: 80, currency: 'USD' },
  })),
  ...[1, 2, 3].map((d) => ({
    id: `${customerId}-t-${n}-${d}`,
    type: 'support_ticket',
    occurredAt: daysAgo(d),
    subject: { customerId },
    data: { text: 'Broken again, terrible, I am furious and want to cancel.' },
  })),
];
