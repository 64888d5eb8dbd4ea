import { useState } from 'react';
import type { ViewProps } from '../App.tsx';
import { get, post, describeError, type Answer } from '../api/client.ts';
import { Badge, Empty, ErrorNote, fmt, Loading, StatusNote, TableScroll } from '../components/ui.tsx';
import { useLoad } from '../hooks.ts';
import { MergeHistory } from '../components/MergeHistory.tsx';

type IdentityReview = Answer<'/api/v1/identity/reviews', 'get'>['data'][number];

const STATUSES = ['open', 'merged', 'kept_apart', 'unmerged', 'superseded'] as const;
const pct = (p: number) => `${(p * 100).toFixed(p > 0.99 && p < 1 ? 2 : 0)}%`;

/** The data steward's queue: new profiles that may be existing customers, side by side, to merge or keep apart. */
export function Identity({ can }: ViewProps) {
  const [status, setStatus] = useState<(typeof STATUSES)[number]>('open');
  const list = useLoad(() => get('/api/v1/identity/reviews', { params: { query: { status, limit: 100 } } }), [status], 15_000);
  const [selected, setSelected] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const items = list.data?.data ?? [];
  const current = items.find((r) => r.id === selected) ?? items[0] ?? null;
  const mayDecide = can('POST', '/identity/reviews/{id}/merge');
  const mayUnmerge = can('POST', '/identity/merges/{id}/unmerge');
  const mayReadMerges = can('GET', '/identity/merges');
  const [mergesKey, setMergesKey] = useState(0);

  return (
    <section aria-labelledby="identity-title">
      <div className="title-row">
        <h1 id="identity-title">Identity reviews</h1>
        <div className="field inline">
          <label htmlFor="idr-status">Show</label>
          <select
            id="idr-status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as typeof status);
              setSelected(null);
            }}
          >
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </div>
      </div>
      <StatusNote message={message} />
      <ErrorNote error={list.error} />
      {list.loading && !list.data ? <Loading what="identity reviews" /> : null}
      {list.data && items.length === 0 ? <Empty>No {status.replace('_', ' ')} reviews.</Empty> : null}
      {items.length ? (
        <div className="split">
          <ol className="queue-list" aria-label={`${status} identity reviews`}>
            {items.map((r) => (
              <li key={r.id} className={r.id === current?.id ? 'selected' : undefined}>
                <button
                  type="button"
                  className="queue-item"
                  aria-current={r.id === current?.id ? 'true' : undefined}
                  onClick={() => setSelected(r.id)}
                >
                  <span className="item-main">
                    {r.profile.customerId} may be {r.candidate.customerId}
                  </span>
                  <span className="item-meta">
                    <span>{pct(r.score)}</span>
                    <span>{fmt.time(r.createdAt)}</span>
                  </span>
                </button>
              </li>
            ))}
          </ol>
          {current ? (
            <ReviewDetail
              key={current.id}
              review={current}
              mayDecide={mayDecide && current.status === 'open'}
              mayUnmerge={mayUnmerge && current.status === 'merged'}
              onDone={async (msg) => {
                setMessage(msg);
                setSelected(null);
                setMergesKey((k) => k + 1);
                await list.reload();
              }}
            />
          ) : null}
        </div>
      ) : null}
      {mayReadMerges ? (
        <section aria-labelledby="merge-history-title">
          <h2 id="merge-history-title">Merge history</h2>
          <p className="muted">
            Every merge, automatic or by a steward, newest first. Undo splits the profiles back: what the merge moved returns, and both
            profiles' features are recomputed.
          </p>
          <MergeHistory key={mergesKey} mayUndo={mayUnmerge} onUndone={() => void list.reload()} />
        </section>
      ) : null}
    </section>
  );
}

function ReviewDetail({
  review: r,
  mayDecide,
  mayUnmerge,
  onDone,
}: {
  review: IdentityReview;
  mayDecide: boolean;
  mayUnmerge: boolean;
  onDone: (msg: string) => Promise<void>;
}) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async (send: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setError(null);
    try {
      await send();
      await onDone(done);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  const fields = [...new Set([...Object.keys(r.profile.fields ?? {}), ...Object.keys(r.candidate.fields ?? {})])];
  const levelOf = new Map(r.explanation.fields.map((f) => [f.field, f]));
  return (
    <article className="detail" aria-labelledby={`idr-${r.id}`}>
      <h2 id={`idr-${r.id}`}>
        Match probability {pct(r.score)} <Badge tone={r.status === 'open' ? 'warn' : 'plain'}>{r.status.replace('_', ' ')}</Badge>
      </h2>
      <p className="lead">
        A new profile, <a href={`#/customers/${encodeURIComponent(r.profile.accountId)}`}>{r.profile.customerId}</a>, may be the existing
        customer <a href={`#/customers/${encodeURIComponent(r.candidate.accountId)}`}>{r.candidate.customerId}</a> (
        {r.candidate.name ?? 'no name'}).
      </p>
      <TableScroll label="The two records, field by field">
        <table>
          <caption>Each field's comparison and the evidence it gives (log2 odds; positive is for a match)</caption>
          <thead>
            <tr>
              <th scope="col">field</th>
              <th scope="col">new profile</th>
              <th scope="col">existing customer</th>
              <th scope="col">comparison</th>
              <th scope="col">weight</th>
            </tr>
          </thead>
          <tbody>
            {fields.map((f) => {
              const c = levelOf.get(f);
              return (
                <tr key={f}>
                  <th scope="row">{f}</th>
                  <td>{r.profile.fields?.[f] ?? '—'}</td>
                  <td>{r.candidate.fields?.[f] ?? '—'}</td>
                  <td>{c?.level ?? 'not compared'}</td>
                  <td className="num">{c ? c.weight.toFixed(1) : ''}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableScroll>
      {r.explanation.rule ? (
        <p>
          Matched by the rule <code>{r.explanation.rule}</code>.
        </p>
      ) : null}
      {r.decidedAt ? (
        <p className="muted">
          Decided {fmt.time(r.decidedAt)} by {r.decidedBy ?? 'the system'}.
        </p>
      ) : null}
      {error ? (
        <p className="note error" role="alert">
          {error}
        </p>
      ) : null}
      {mayDecide ? (
        <div className="actions">
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              act(
                () => post('/api/v1/identity/reviews/{id}/merge', { params: { path: { id: r.id } } }),
                `Merged ${r.profile.customerId} into ${r.candidate.customerId}.`,
              )
            }
          >
            Merge into {r.candidate.customerId}
          </button>
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() =>
              act(
                () => post('/api/v1/identity/reviews/{id}/keep-apart', { params: { path: { id: r.id } } }),
                `Kept ${r.profile.customerId} and ${r.candidate.customerId} apart.`,
              )
            }
          >
            Keep apart
          </button>
        </div>
      ) : null}
      {mayUnmerge && r.mergeId && !confirming ? (
        <div className="actions">
          <button type="button" className="secondary" disabled={busy} onClick={() => setConfirming(true)}>
            Undo the merge
          </button>
        </div>
      ) : null}
      {mayUnmerge && r.mergeId && confirming ? (
        <div className="panel" role="group" aria-labelledby={`idr-undo-${r.id}`}>
          <p id={`idr-undo-${r.id}`}>
            Undo the merge of {r.profile.customerId} into {r.candidate.customerId}? What it moved goes back, and both profiles' features are
            recomputed.
          </p>
          <div className="actions">
            <button
              type="button"
              className="danger"
              disabled={busy}
              autoFocus
              onClick={() =>
                act(
                  () => post('/api/v1/identity/merges/{id}/unmerge', { params: { path: { id: r.mergeId! } } }),
                  `Undid the merge of ${r.profile.customerId} into ${r.candidate.customerId}.`,
                )
              }
            >
              Confirm undo
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => setConfirming(false)}>
              Keep merged
            </button>
          </div>
        </div>
      ) : null}
    </article>
  );
}
