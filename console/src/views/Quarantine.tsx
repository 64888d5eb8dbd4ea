import { useState, type FormEvent } from 'react';
import type { ViewProps } from '../App.tsx';
import { get, post, describeError, type Answer } from '../api/client.ts';
import { Badge, Empty, ErrorNote, Facts, fmt, Loading, StatusNote } from '../components/ui.tsx';
import { useLoad } from '../hooks.ts';

type QuarantineItem = Answer<'/api/v1/quarantine', 'get'>['data'][number];

const STATUSES = ['open', 'resubmitted', 'discarded'] as const;

const pretty = (raw: string) => {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
};

/** What kind of input an item is: a signal's own `type`, or the record kind of a refused record. */
export function inputType(item: Pick<QuarantineItem, 'source' | 'raw'>): string {
  if (item.source.startsWith('records:')) return `${item.source.slice(8)} record`;
  try {
    const parsed = JSON.parse(item.raw) as unknown;
    const type = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>).type : undefined;
    return typeof type === 'string' && type.trim() ? type.slice(0, 60) : 'no type';
  } catch {
    return 'not JSON';
  }
}

/** The first thing wrong with an item, as one line. */
const firstIssue = (item: QuarantineItem) => {
  const i = item.issues[0];
  return i ? `${i.path ? `${i.path}: ` : ''}${i.message}` : item.reason;
};

/** Refused input, kept whole with its reasons: fix it and resubmit, or discard it with a reason. */
export function Quarantine({ can }: ViewProps) {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('open');
  const list = useLoad(() => get('/api/v1/quarantine', { params: { query: { status, limit: 100 } } }), [status], 15_000);
  const [selected, setSelected] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const items = list.data?.data ?? [];
  const current = items.find((q) => q.id === selected) ?? items[0] ?? null;
  const mayFix = can('POST', '/quarantine/{id}/resubmit');

  return (
    <section aria-labelledby="quarantine-title">
      <div className="title-row">
        <h1 id="quarantine-title">Quarantine</h1>
        <div className="field inline">
          <label htmlFor="q-status">Show</label>
          <select
            id="q-status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as typeof status);
              setSelected(null);
            }}
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </div>
      <StatusNote message={message} />
      <ErrorNote error={list.error} />
      {list.loading && !list.data ? <Loading what="quarantine" /> : null}
      {list.data && items.length === 0 ? <Empty>No {status} items.</Empty> : null}
      {items.length ? (
        <div className="split">
          <ol className="queue-list" aria-label={`${status} quarantine items`}>
            {items.map((q) => (
              <li key={q.id} className={q.id === current?.id ? 'selected' : undefined}>
                <button
                  type="button"
                  id={`qitem-${q.id}`}
                  className="queue-item"
                  aria-current={q.id === current?.id ? 'true' : undefined}
                  onClick={() => setSelected(q.id)}
                >
                  <span className="item-main">{firstIssue(q)}</span>
                  <span className="item-meta">
                    <span>
                      <span className="sr-only">type </span>
                      <Badge tone="plain">{inputType(q)}</Badge>
                    </span>
                    <span>
                      <span className="sr-only">source </span>
                      {q.source}
                    </span>
                    {q.issues.length > 1 ? <span>{q.issues.length} issues</span> : null}
                    <span>{fmt.time(q.receivedAt)}</span>
                  </span>
                </button>
              </li>
            ))}
          </ol>
          {current ? (
            <QuarantineDetail
              key={current.id}
              item={current}
              mayFix={mayFix && current.status === 'open'}
              onDone={async (msg) => {
                setMessage(msg);
                setSelected(null);
                await list.reload();
              }}
            />
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function QuarantineDetail({ item, mayFix, onDone }: { item: QuarantineItem; mayFix: boolean; onDone: (msg: string) => Promise<void> }) {
  const [text, setText] = useState(() => pretty(item.raw));
  const [discardReason, setDiscardReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [discardError, setDiscardError] = useState<string | null>(null);
  const isRecord = item.source.startsWith('records:');

  const resubmit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    let signal: unknown;
    const unchanged = text === pretty(item.raw);
    if (!unchanged) {
      try {
        signal = JSON.parse(text);
      } catch (err) {
        return setError(`The corrected signal is not valid JSON: ${(err as Error).message}`);
      }
    }
    try {
      await post('/api/v1/quarantine/{id}/resubmit', { params: { path: { id: item.id } }, body: unchanged ? {} : { signal } });
      await onDone(`Resubmitted ${item.id}: accepted.`);
    } catch (err) {
      setError(describeError(err));
    }
  };

  const discard = async (e: FormEvent) => {
    e.preventDefault();
    if (!discardReason.trim()) return setDiscardError('Discarding needs a reason.');
    setDiscardError(null);
    try {
      await post('/api/v1/quarantine/{id}/discard', { params: { path: { id: item.id } }, body: { reason: discardReason.trim() } });
      await onDone(`Discarded ${item.id}.`);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <article className="detail" aria-labelledby={`q-${item.id}`}>
      <h2 id={`q-${item.id}`}>
        {item.id} <Badge tone={item.status === 'open' ? 'warn' : 'plain'}>{item.status}</Badge>
      </h2>
      <Facts
        items={[
          ['source', item.source],
          ['type', inputType(item)],
          ['received', fmt.time(item.receivedAt)],
          ['reason', item.reason],
          ['resolved', item.resolvedAt ? fmt.time(item.resolvedAt) : null],
        ]}
      />
      {item.issues.length ? (
        <>
          <h3>What was wrong</h3>
          <ul className="issues">
            {item.issues.map((i, k) => (
              <li key={k}>
                <code>{i.path}</code>: {i.message}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {mayFix ? (
        <>
          {isRecord ? (
            <p className="note info">
              This is a refused {item.source.slice(8)} record: send the corrected record through the records API, then discard this item.
            </p>
          ) : null}
          <form onSubmit={resubmit} noValidate>
            <label htmlFor={`raw-${item.id}`}>Input as received{isRecord ? '' : ' — correct it, then resubmit'}</label>
            <textarea
              id={`raw-${item.id}`}
              className="code"
              rows={14}
              spellCheck={false}
              value={text}
              onChange={(e) => setText(e.target.value)}
              readOnly={isRecord}
            />
            {!isRecord ? <button type="submit">Resubmit</button> : null}
          </form>
          <form onSubmit={discard} className="inline-form" noValidate>
            <label htmlFor={`discard-${item.id}`}>Reason to discard</label>
            <input
              id={`discard-${item.id}`}
              value={discardReason}
              onChange={(e) => setDiscardReason(e.target.value)}
              maxLength={500}
              aria-invalid={discardError ? true : undefined}
              aria-describedby={discardError ? `discard-error-${item.id}` : undefined}
            />
            <button type="submit" className="danger">
              Discard
            </button>
            {discardError ? (
              <p id={`discard-error-${item.id}`} className="note error" role="alert">
                {discardError}
              </p>
            ) : null}
          </form>
        </>
      ) : (
        <>
          <h3>Input as received</h3>
          <pre className="json">{pretty(item.raw)}</pre>
          {item.resolution ? (
            <>
              <h3>Resolution</h3>
              <pre className="json">{JSON.stringify(item.resolution, null, 2)}</pre>
            </>
          ) : null}
        </>
      )}
      <ErrorNote error={error} />
    </article>
  );
}
