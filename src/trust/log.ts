import { stdSerializers, type Logger, type LoggerOptions } from 'pino';
import { redactForLog } from './pii.ts';

/** How deep a logged object is walked; below that a value is logged as "[too deep]". */
const MAX_DEPTH = 8;

/**
 * A logged value with the personal data of its strings redacted (redactForLog): strings, arrays, plain objects
 * and errors (serialised first, so their message and stack are redacted too). Other values pass unchanged.
 */
export function maskLogValue(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactForLog(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  // pino's error serializer gives an object of its own prototype; its own fields (type, message, stack, cause…) are copied.
  if (value instanceof Error) return maskLogValue({ ...stdSerializers.err(value) }, depth + 1, seen);
  if (Array.isArray(value)) return value.map((v) => maskLogValue(v, depth + 1, seen));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    // Dates, buffers and the like keep their own serialisation; anything with toJSON is asked for it first.
    const json = (value as { toJSON?: () => unknown }).toJSON;
    return typeof json === 'function' ? maskLogValue(json.call(value), depth + 1, seen) : value;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskLogValue(v, depth + 1, seen);
  return out;
}

/**
 * pino options that keep emails, card numbers, IBANs and national ids out of log output: the message and its
 * format arguments are redacted as the log method is called, and every string field of the logged object before
 * the line is written. A child logger's bindings need maskChildBindings as well.
 */
export function piiSafeLoggerOptions(): Pick<LoggerOptions, 'hooks' | 'formatters'> {
  return {
    hooks: {
      logMethod(args, method) {
        const masked = args.map((a) => (typeof a === 'string' ? redactForLog(a) : a)) as Parameters<typeof method>;
        return method.apply(this, masked);
      },
    },
    formatters: {
      log: (obj) => maskLogValue(obj) as Record<string, unknown>,
    },
  };
}

/**
 * Redacts the bindings of every child logger made from `logger` (and from its children, which inherit the
 * method): pino writes a child's bindings once, when the child is made, past the log formatter.
 */
export function maskChildBindings<L extends Logger>(logger: L): L {
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, maskLogValue(bindings) as typeof bindings, options);
  } as typeof logger.child;
  return logger;
}
