import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanOptions,
} from '@opentelemetry/api';

/**
 * Span helpers over the OpenTelemetry API. Until a tracer provider is registered (src/lib/tracing.ts, when
 * OTEL_EXPORTER_OTLP_ENDPOINT is set) the API's tracer is a no-op: these cost a function call and create nothing.
 */
const tracer = () => trace.getTracer('acs');

export { SpanKind, type Attributes, type Span };

/** Runs `fn` in a new active span; the span records a thrown error and ends when `fn` settles. */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>, parent?: Context): Promise<T> {
  return tracer().startActiveSpan(name, options, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** inSpan for synchronous work (a policy decision). */
export function inSpanSync<T>(name: string, options: SpanOptions, fn: (span: Span) => T): T {
  return tracer().startActiveSpan(name, options, (span) => {
    try {
      return fn(span);
    } catch (err) {
      failSpan(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/** The key an event payload carries its publisher's trace context under (W3C traceparent). */
export const TRACE_KEY = 'traceparent';

/**
 * An event payload with the current trace context added, so a consumer that runs later (another transaction,
 * another process) continues the trace. Unchanged when nothing is traced or the payload is not an object.
 */
export function withTraceContext<T>(payload: T): T {
  if (!trace.getSpan(context.active())?.isRecording()) return payload;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return payload;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier[TRACE_KEY] ? { ...payload, [TRACE_KEY]: carrier[TRACE_KEY] } : payload;
}

/** The trace context an event payload carries (see withTraceContext), or undefined. */
export function traceContextOf(payload: unknown): Context | undefined {
  const value = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>)[TRACE_KEY] : undefined;
  if (typeof value !== 'string') return undefined;
  const extracted = propagation.extract(context.active(), { [TRACE_KEY]: value });
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

/** The trace context a caller sent in W3C headers (traceparent, tracestate), or undefined. */
export function incomingTraceContext(traceparent: string | undefined, tracestate: string | undefined): Context | undefined {
  if (!traceparent) return undefined;
  const extracted = propagation.extract(context.active(), { traceparent, ...(tracestate ? { tracestate } : {}) });
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

/**
 * The parent and links of a span that handles several events at once: the first traced event's context is the
 * parent, the others are links (a batch joins several traces).
 */
export function batchParent(payloads: unknown[]): { parent?: Context; links: Link[] } {
  const contexts = payloads.map(traceContextOf).filter((c): c is Context => c !== undefined);
  const links = contexts.slice(1).map((c) => ({ context: trace.getSpanContext(c)! }));
  return { parent: contexts[0], links };
}

/** True when a tracer provider records spans: callers skip building costly attributes otherwise. */
export const tracing = () => trace.getSpan(context.active())?.isRecording() ?? false;
