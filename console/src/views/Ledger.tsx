import { useState, type FormEvent } from 'react';
import type { ViewProps } from '../App.tsx';
import { get, describeError, type Answer } from '../api/client.ts';
import { Badge, Empty, ErrorNote, fmt, Json, Loading } from '../components/ui.tsx';
import { useLoad } from '../hooks.ts';

type LedgerEntry = Answer<'/api/v1/ledger', 'get'>['data'][number];
type VerifyReport = Answer<'/api/v1/ledger/verify', 'get'>;

interface Filters {
  type: string;
  subjectId: string;
}

/** The hash-chained ledger: newest first, filtered by type or subject; verify the chain and see where it broke. */
export function Ledger({ rest }: ViewProps) {
  const [filters, setFilters] = useState<Filters>({ type: '', subjectId: rest });
  const [form, setForm] = useState<Filters>(filters);
  const [before, setBefore] = useState<number[]>([]);
  const page = useLoad(
    () =>
      get('/api/v1/ledger', {
        params: {
          query: {
            limit: 50,
            type: filters.type || undefined,
            subjectId: filters.subjectId || undefined,
            before: before[before.length - 1],
          },
        },
      }),
    [filters, before],
  );
  const [report, setReport] = useState<VerifyReport | null>(null);
  const [badEntry, setBadEntry] = useState<LedgerEntry | null>(null);
  const [verifying, setVerifying] = useState(false);
  const [verifyError, setVerifyError] = useState<string | null>(null);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setBefore([]);
    setFilters({ type: form.type.trim(), subjectId: form.subjectId.trim() });
  };

  const verify = async () => {
    setVerifying(true);
    setVerifyError(null);
    setBadEntry(null);
    try {
      const r = await get('/api/v1/ledger/verify');
      setReport(r);
      if (!r.ok && r.firstBadSeq !== null) {
        const around = await get('/api/v1/ledger', { params: { query: { before: r.firstBadSeq + 1, limit: 1 } } });
        setBadEntry(around.data.find((e) => e.seq === r.firstBadSeq) ?? null);
      }
    } catch (err) {
      setVerifyError(describeError(err));
    } finally {
      setVerifying(false);
    }
  };

  return (
    <section aria-labelledby="ledger-title">
      <h1 id="ledger-title">Ledger</h1>
      <div className="panel" role="region" aria-label="Chain verification">
        <div className="button-row">
          <button type="button" onClick={verify} disabled={verifying}>
            {verifying ? 'Verifying…' : 'Verify the chain'}
          </button>
          {report ? (
            report.ok ? (
              <p className="note good" role="status">
                <Badge tone="good">intact</Badge> {report.entries} entries recomputed; head <code>{report.head?.slice(0, 16)}…</code>
              </p>
            ) : (
              <p className="note error" role="alert">
                <Badge tone="bad">broken</Badge> The chain breaks at entry {report.firstBadSeq} of {report.entries}: {report.problem}.
              </p>
            )
          ) : null}
        </div>
        <ErrorNote error={verifyError} />
        {badEntry ? (
          <div className="bad-entry">
            <h2>Entry {badEntry.seq}, where the chain breaks</h2>
            <EntryRow entry={badEntry} open />
          </div>
        ) : null}
      </div>
      <form className="filters" onSubmit={apply} role="search" aria-label="Filter the ledger">
        <div className="field">
          <label htmlFor="ledger-type">Type</label>
          <input
            id="ledger-type"
            placeholder="e.g. approval.decided"
            value={form.type}
            onChange={(e) => setForm({ ...form, type: e.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="ledger-subject">Subject id</label>
          <input
            id="ledger-subject"
            placeholder="e.g. appr_…"
            value={form.subjectId}
            onChange={(e) => setForm({ ...form, subjectId: e.target.value })}
          />
        </div>
        <button type="submit">Filter</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setForm({ type: '', subjectId: '' });
            setBefore([]);
            setFilters({ type: '', subjectId: '' });
          }}
        >
          Clear
        </button>
      </form>
      <ErrorNote error={page.error} />
      {page.loading && !page.data ? <Loading what="ledger entries" /> : null}
      {page.data && page.data.data.length === 0 ? <Empty>No entries match.</Empty> : null}
      {page.data && page.data.data.length > 0 ? (
        <>
          <ol className="ledger" aria-label="Ledger entries, newest first">
            {page.data.data.map((e) => (
              <li key={e.seq}>
                <EntryRow entry={e} />
              </li>
            ))}
          </ol>
          <div className="button-row">
            <button type="button" className="secondary" disabled={before.length === 0} onClick={() => setBefore(before.slice(0, -1))}>
              Newer
            </button>
            <button
              type="button"
              className="secondary"
              disabled={page.data.nextBefore === null}
              onClick={() => setBefore([...before, page.data!.nextBefore!])}
            >
              Older
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}

function EntryRow({ entry, open = false }: { entry: LedgerEntry; open?: boolean }) {
  return (
    <details className="entry" open={open}>
      <summary>
        <span className="seq">#{entry.seq}</span> <span className="etype">{entry.type}</span>{' '}
        <span className="muted">
          {fmt.time(entry.ts)} · {entry.actor}
        </span>
        {entry.subjectId ? (
          <span className="muted">
            {' '}
            · {entry.subjectType} {entry.subjectId}
          </span>
        ) : null}
      </summary>
      <Json value={entry.data} label={`data of entry ${entry.seq}`} />
      <p className="hash">
        hash <code>{entry.hash}</code>
        <br />
        previous <code>{entry.prevHash}</code>
      </p>
    </details>
  );
}
