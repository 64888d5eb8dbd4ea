/**
 * lib: small utilities with no product knowledge, shared by every module and the demo world.
 * Owns: seeded random streams and distributions (so a seed fixes bandit draws, tree training, CV splits and the
 * simulated days alike); span helpers over the OpenTelemetry API and starting its SDK (traces, when an endpoint
 * is set). Imports nothing of ACS.
 */
export { bernoulli, clamp, integer, normal, pick, poisson, sfc32, stream, uniform, type Rng } from './random.ts';
export {
  batchParent,
  failSpan,
  incomingTraceContext,
  inSpan,
  inSpanSync,
  SpanKind,
  spanIds,
  MAX_SPAN_IDS,
  traceContextOf,
  tracingEnabled,
  TRACE_KEY,
  withTraceContext,
  type Attributes,
  type Span,
} from './trace.ts';
export { startTracing, type Tracing } from './tracing.ts';
export { csvLines, unescapeCsvCell } from './csv.ts';
