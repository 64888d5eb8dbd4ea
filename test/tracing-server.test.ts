import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { cliEnv, type CliEnv } from './cli-helpers.ts';
import { attr, startMockCollector } from './otlp-collector.ts';

// A mock of an external system: the server started with OTEL_EXPORTER_OTLP_ENDPOINT sends its spans to a mock
// OTLP/HTTP collector on loopback, and flushes them when it stops.
describe('a server started with OTEL_EXPORTER_OTLP_ENDPOINT, against a mock OTLP collector', () => {
  let collector: Awaited<ReturnType<typeof startMockCollector>>;
  let cli: CliEnv;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    collector = await startMockCollector();
    cli = await cliEnv();
  });
  afterAll(async () => {
    await server?.close();
    await cli.cleanup();
    rmSync(cli.dataDir, { recursive: true, force: true });
    await collector.close();
  });

  it('traces its requests under OTEL_SERVICE_NAME and sends what is left when it stops', async () => {
    const config = loadConfig({
      ACS_DATA_DIR: cli.dataDir,
      ACS_PORT: '0',
      ACS_AGENTS: 'off',
      DATABASE_URL: cli.env.DATABASE_URL,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint + '/',
      OTEL_SERVICE_NAME: 'acs-traced',
    });
    server = await startServer(config, pino({ level: 'silent' }));
    const res = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'server-traced-1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('server-traced-1');
    await server.close();
    server = undefined;
    const span = collector.spans.find((s) => s.name === 'GET /healthz' && attr(s, 'acs.request_id') === 'server-traced-1');
    expect(span).toMatchObject({ kind: 2, service: 'acs-traced' });
  });
});
