import { setTracingEnabled } from './trace.ts';

/** A started OpenTelemetry SDK: flush sends the spans ended so far, shutdown flushes and unregisters. */
export interface Tracing {
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry trace SDK: spans are batched and sent as OTLP/HTTP JSON to `${endpoint}/v1/traces`, the
 * context follows async calls (AsyncLocalStorage) and crosses processes as W3C traceparent. The SDK is imported
 * only here, so a process without an endpoint never loads it.
 */
export async function startTracing(opts: { endpoint: string; serviceName: string; version?: string }): Promise<Tracing> {
  const [{ NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, api] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/api'),
  ]);
  const exporter = new OTLPTraceExporter({ url: `${opts.endpoint.replace(/\/+$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': opts.serviceName,
      ...(opts.version ? { 'service.version': opts.version } : {}),
    }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  setTracingEnabled(true);
  return {
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      setTracingEnabled(false);
      await provider.shutdown();
      // Back to the no-op API, so a later start in the same process (a test) registers afresh.
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    },
  };
}
