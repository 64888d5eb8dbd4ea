import {
  context,
  INVALID_SPAN_CONTEXT,
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
 * Span helpers over the OpenTelemetry API. Until startTracing (src/lib/tracing.ts, when OTEL_EXPORTER_OTLP_ENDPOINT
 * is set) turns them on, they call the traced function with a no-op span and build nothing else.
 */
const tracer = () => trace.getTracer('acs');
let enabled = false;
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Called by startTracing and its shutdown. */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

/** True once a tracer provider records spans: callers skip building attributes otherwise. */
export const tracingEnabled = () => enabled;

export { SpanKind, type Attributes, type Span };

/** Runs `fn` in a new active span; the span records a thrown error and ends when `fn` settles. */
export function inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>, parent?: Context): Promise<T> {
  if (!enabled) return fn(NO_SPAN);
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
  if (!enabled) return fn(NO_SPAN);
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

/** Most ids one span attribute lists (a batch can hold thousands); a count beside it says how many there were. */
export const MAX_SPAN_IDS = 200;
export const spanIds = (ids: readonly string[]): string[] => ids.slice(0, MAX_SPAN_IDS);

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
  if (!enabled || !trace.getSpan(context.active())?.isRecording()) return payload;
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
  if (!enabled || !traceparent) return undefined;
  const extracted = propagation.extract(context.active(), { traceparent, ...(tracestate ? { tracestate } : {}) });
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

/**
 * The parent and links of a span that handles several events at once: the first traced event's context is the
 * parent, the others are links (a batch joins several traces).
 */
export function batchParent(payloads: unknown[]): { parent?: Context; links: Link[] } {
  if (!enabled) return { links: [] };
  const contexts = payloads.map(traceContextOf).filter((c): c is Context => c !== undefined);
  const links = contexts.slice(1).map((c) => ({ context: trace.getSpanContext(c)! }));
  return { parent: contexts[0], links };
}
