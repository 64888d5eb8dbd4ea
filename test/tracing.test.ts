import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { trace } from '@opentelemetry/api';
import { batchParent, inSpan, startTracing, withTraceContext, type Tracing } from '../src/lib/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';
import { attr, startMockCollector, type OtlpSpan } from './otlp-collector.ts';

const leadForm = (id: string, email: string) => ({
  id,
  type: 'lead_form',
  version: 2,
  subject: { email },
  data: { firstName: 'Ann', email, formId: 'demo', consents: [{ channel: 'email', purpose: 'sales' }] },
});

// A mock of an external system: a local OTLP/HTTP collector on loopback stands in for a real one.
describe('OpenTelemetry traces, sent to a mock OTLP/HTTP collector on loopback', () => {
  let collector: Awaited<ReturnType<typeof startMockCollector>>;
  let spans: OtlpSpan[];
  let t: TestApp;
  let tracing: Tracing | undefined;

  beforeAll(async () => {
    collector = await startMockCollector();
    spans = collector.spans;
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
  });
  afterAll(async () => {
    await tracing?.shutdown();
    await t.close();
    await collector.close();
  });

  it('without an endpoint nothing is traced: no span is sent and events carry no trace context', async () => {
    const res = await t.app.request('/api/v1/signals', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.agent}`, 'content-type': 'application/json' },
      body: JSON.stringify([leadForm('trace-off-1', 'off@initech.example')]),
    });
    expect(res.status).toBe(202);
    await t.bus.drain();
    const events = await t.db.query<{ payload: Record<string, unknown> }>('SELECT payload FROM outbox');
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.payload).not.toHaveProperty('traceparent');
    expect(collector.posts()).toBe(0);
  });

  it('traces a signal from the HTTP request through intake, the bus, each stage and policy to the tool that ran', async () => {
    tracing = await startTracing({ endpoint: collector.endpoint, serviceName: 'acs-test' });
    const res = await t.app.request('/api/v1/signals', {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.agent}`, 'content-type': 'application/json' },
      body: JSON.stringify([leadForm('trace-on-1', 'ann@initech.example')]),
    });
    expect(res.status).toBe(202);
    const leadId = ((await res.json()) as { accepted: { leadId: string }[] }).accepted[0]!.leadId;
    await t.bus.drain();
    await tracing.flush();
    expect(collector.posts()).toBeGreaterThan(0);

    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: OtlpSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const one = (name: string, where: (s: OtlpSpan) => boolean = () => true) => {
      const found = spans.filter((s) => s.name === name && where(s));
      expect(found, name).toHaveLength(1);
      return found[0]!;
    };

    const http = one('POST /api/v1/signals');
    expect(http.kind).toBe(2); // SERVER
    expect(http.parentSpanId ?? '').toBe('');
    expect(attr(http, 'acs.request_id')).toBe(res.headers.get('x-request-id'));
    expect(attr(http, 'http.response.status_code')).toBe(202);
    const inTrace = (s: OtlpSpan) => s.traceId === http.traceId;

    const intake = one('intake', inTrace);
    expect(parentOf(intake)).toBe(http);
    expect(attr(intake, 'acs.signal.ids')).toEqual(['trace-on-1']);

    // The bus: the event carried the trace context, so its delivery continues the request's trace.
    const deliveries = spans.filter((s) => s.name === 'deliver signals.accepted' && inTrace(s));
    expect(deliveries.length).toBeGreaterThanOrEqual(2);
    for (const d of deliveries) {
      expect(d.kind).toBe(5); // CONSUMER
      expect(parentOf(d)).toBe(intake);
    }
    const features = one('stage features', inTrace);
    // The decide stage subscribes two handlers (the bandits' learning, then the agents): a span each.
    const decides = spans.filter((s) => s.name === 'stage decide' && inTrace(s));
    expect(decides).toHaveLength(2);
    for (const stage of [features, ...decides]) {
      expect(deliveries).toContain(parentOf(stage));
      expect(attr(stage, 'acs.signal.ids')).toEqual(['trace-on-1']);
    }

    const descends = (s: OtlpSpan, from: OtlpSpan) => {
      for (let p = parentOf(s); p; p = parentOf(p)) if (p === from) return true;
      return false;
    };
    const decide = decides.find((d) => spans.some((s) => s.name === 'policy decide' && descends(s, d)))!;
    expect(decide).toBeDefined();
    const judged = spans.filter((s) => s.name === 'policy decide' && descends(s, decide));
    expect(judged.length).toBeGreaterThanOrEqual(1);
    expect(judged.map((s) => attr(s, 'acs.policy.action'))).toContain('send_message');
    const recorded = one('policy record', (s) => descends(s, decide));
    const decisionIds = attr(recorded, 'acs.decision.ids') as string[];
    expect(decisionIds.length).toBeGreaterThanOrEqual(1);
    const [decision] = await t.db.query<{ id: string }>(
      `SELECT d.id FROM decisions d JOIN proposals p ON p.id = d.proposal_id
        WHERE p.lead_id = $1 AND p.action = 'send_message' AND d.outcome = 'execute'`,
      [leadId],
    );
    expect(decisionIds).toContain(decision!.id);

    const tool = one('tool send_message', (s) => descends(s, decide));
    expect(attr(tool, 'acs.decision.id')).toBe(decision!.id);
    expect(attr(tool, 'acs.execution.status')).toBe('succeeded');
  });

  // Tracing is on from the test above.
  it('a batch of events from several traces continues the first and links the others', async () => {
    const published = await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        inSpan(`publish ${name}`, {}, async (span) => ({ ...withTraceContext({ name }), span: span.spanContext() })),
      ),
    );
    expect(published.every((p) => typeof (p as Record<string, unknown>).traceparent === 'string')).toBe(true);
    const { parent, links } = batchParent([...published, { untraced: true }]);
    expect(trace.getSpanContext(parent!)?.spanId).toBe(published[0]!.span.spanId);
    expect(links.map((l) => l.context.spanId)).toEqual([published[1]!.span.spanId, published[2]!.span.spanId]);
  });

  it("continues a caller's W3C traceparent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await t.app.request('/healthz', {
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, 'x-request-id': 'trace-parent-1' },
    });
    expect(res.status).toBe(200);
    await tracing!.flush();
    const http = spans.find((s) => s.name === 'GET /healthz' && attr(s, 'acs.request_id') === 'trace-parent-1');
    expect(http).toMatchObject({ traceId, parentSpanId: '00f067aa0ba902b7' });
  });
});

describe('tracing configuration', () => {
  it('reads the standard OpenTelemetry variables: no endpoint by default, the service name acs', () => {
    expect(loadConfig({}).otel).toEqual({ endpoint: undefined, serviceName: 'acs' });
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SERVICE_NAME: 'acs-eu' }).otel).toEqual({
      endpoint: 'http://127.0.0.1:4318',
      serviceName: 'acs-eu',
    });
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'grpc://collector:4317' })).toThrow(ConfigError);
  });
});
