import { useEffect, useRef, useState, type FormEvent } from 'react';
import { get, post, describeError, type Answer } from '../api/client.ts';
import { useLoad } from '../hooks.ts';
import { Badge, Empty, ErrorNote, fmt, Loading, StatusNote, TableScroll } from './ui.tsx';

type Merge = Answer<'/api/v1/identity/merges', 'get'>['data'][number];

const pct = (p: number | null) => (p === null ? '' : `${(p * 100).toFixed(p > 0.99 && p < 1 ? 2 : 0)}%`);
const who = (side: Merge['survivor']) => side.customerId ?? side.accountId;

/**
 * The merge history as a table a steward can read: when, which profile went into which, how (automatic by a rule or
 * the probability, or a steward), the fields that decided, who, and an Undo that asks first. `customerId` keeps one
 * profile's merges.
 */
export function MergeHistory({ customerId, mayUndo, onUndone }: { customerId?: string; mayUndo: boolean; onUndone?: () => void }) {
  const [cursor, setCursor] = useState<string[]>([]);
  const list = useLoad(
    () => get('/api/v1/identity/merges', { params: { query: { limit: 20, customerId, cursor: cursor[cursor.length - 1] } } }),
    [customerId, cursor],
  );
  const [asking, setAsking] = useState<Merge | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const rows = list.data?.data ?? [];
  const label = customerId ? `Merges of ${customerId}` : 'Merge history';
  return (
    <div className="merge-history">
      <StatusNote message={message} />
      <ErrorNote error={list.error} />
      {list.loading && !list.data ? <Loading what="merges" /> : null}
      {list.data && rows.length === 0 ? <Empty>No merges recorded{customerId ? ': this profile is as it was created' : ''}.</Empty> : null}
      {rows.length ? (
        <TableScroll label={label}>
          <table className="merges">
            <caption className="sr-only">{label}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">when</th>
                <th scope="col">merge</th>
                <th scope="col">how</th>
                <th scope="col">deciding fields</th>
                <th scope="col">by</th>
                <th scope="col">
                  <span className="sr-only">undo</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={m.id}>
                  <td>{fmt.time(m.createdAt)}</td>
                  <td className="wrap">
                    <a href={`#/customers/${encodeURIComponent(m.merged.accountId)}`}>{who(m.merged)}</a> into{' '}
                    <a href={`#/customers/${encodeURIComponent(m.survivor.accountId)}`}>{who(m.survivor)}</a>
                    {m.survivor.name ? <span className="muted"> ({m.survivor.name})</span> : null}
                  </td>
                  <td>
                    <Badge tone={m.automatic ? 'info' : 'plain'}>{m.automatic ? 'automatic' : 'steward'}</Badge>{' '}
                    {m.automatic ? <code>{m.rule}</code> : null} {pct(m.score)}
                  </td>
                  <td className="wrap">
                    {m.decidingFields.length
                      ? m.decidingFields
                          .slice(0, 4)
                          .map((f) => `${f.field} (${f.level.replace(/_/g, ' ')})`)
                          .join(', ')
                      : '—'}
                  </td>
                  <td className="wrap">{m.actorName}</td>
                  <td className="wrap">
                    {m.unmergedAt ? (
                      <span>
                        <Badge tone="plain">undone</Badge> {fmt.time(m.unmergedAt)}
                        {m.unmergedByName ? ` by ${m.unmergedByName}` : ''}
                      </span>
                    ) : mayUndo && m.undoable ? (
                      <button
                        type="button"
                        className="secondary"
                        onClick={() => setAsking(m)}
                        aria-label={`Undo merge of ${who(m.merged)} into ${who(m.survivor)}`}
                      >
                        Undo
                      </button>
                    ) : m.undoBlockedReason ? (
                      <span className="muted">{m.undoBlockedReason}</span>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
      {asking ? (
        <UndoConfirm
          key={asking.id}
          merge={asking}
          onClose={() => setAsking(null)}
          onDone={async (msg) => {
            setAsking(null);
            setMessage(msg);
            await list.reload();
            onUndone?.();
          }}
        />
      ) : null}
      {list.data && (cursor.length || list.data.nextCursor) ? (
        <div className="button-row">
          <button type="button" className="secondary" disabled={!cursor.length} onClick={() => setCursor(cursor.slice(0, -1))}>
            Newer
          </button>
          <button
            type="button"
            className="secondary"
            disabled={!list.data.nextCursor}
            onClick={() => setCursor([...cursor, list.data!.nextCursor!])}
          >
            Older
          </button>
        </div>
      ) : null}
    </div>
  );
}

function UndoConfirm({ merge: m, onClose, onDone }: { merge: Merge; onClose: () => void; onDone: (msg: string) => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const opener = useRef(document.activeElement as HTMLElement | null);
  useEffect(() => box.current?.querySelector<HTMLElement>('button')?.focus(), []);
  const close = () => {
    onClose();
    opener.current?.focus();
  };
  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const done = await post('/api/v1/identity/merges/{id}/unmerge', { params: { path: { id: m.id } } });
      await onDone(
        `Undid the merge of ${who(m.merged)} into ${who(m.survivor)}: both profiles stand apart again` +
          (done.followed ? `, with ${done.followed} later signal${done.followed === 1 ? '' : 's'} moved back.` : '.'),
      );
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  return (
    <form
      className="panel"
      onSubmit={confirm}
      aria-labelledby={`undo-${m.id}-ask`}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !busy) close();
      }}
    >
      <div ref={box}>
        <p id={`undo-${m.id}-ask`}>
          Undo the {m.automatic ? 'automatic' : 'steward\u2019s'} merge of <strong>{who(m.merged)}</strong> into{' '}
          <strong>{who(m.survivor)}</strong>? The records, contact points and signals it moved go back to {who(m.merged)}, which is a
          profile of its own again; both profiles' features are recomputed. The undo is recorded in the ledger.
        </p>
        <ErrorNote error={error} />
        <div className="button-row">
          <button type="submit" className="danger" disabled={busy}>
            Confirm undo
          </button>
          <button type="button" className="secondary" onClick={close} disabled={busy}>
            Keep merged
          </button>
        </div>
      </div>
    </form>
  );
}
