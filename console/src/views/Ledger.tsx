import { useContext, useState, type FormEvent } from 'react';
import { WorldContext, type ViewProps } from '../App.tsx';
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
      <ClockNote />
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

/** The actor as a person reads it: a token's name and role, an agent, or the part of the system. */
const actorText = (e: LedgerEntry) => (e.actorRole && e.actorKind === 'person' ? `${e.actorName} (${e.actorRole})` : e.actorName);

/** What an approval entry was about: the action, the customer and, for a credit, the amount. */
function aboutText(e: LedgerEntry): string | null {
  const a = e.about;
  if (!a) return null;
  const verb = e.type.startsWith('approval.') ? e.type.slice(9).replace(/_/g, ' ') : e.type;
  const action = a.action.replace(/_/g, ' ');
  const amount = a.amountCents !== null ? ` of ${fmt.cents(a.amountCents)}` : '';
  const c = a.customer;
  const customer = c?.customerId ? ` for ${c.customerId}${c.name ? ` (${c.name})` : ''}` : '';
  return `${verb}: ${action}${amount}${customer}, proposed by the ${a.agentId} agent`;
}

/**
 * Which clock the ledger's times are on: the server's (the business clock), as every view's are; it is the live
 * world's when one runs. An entry's time is part of what the hash chain covers.
 */
function ClockNote() {
  const clock = useContext(WorldContext);
  return (
    <p className="muted" id="ledger-clock">
      Times are when each entry happened on the server&apos;s clock (UTC), as in every other view.
      {clock?.world
        ? ` The live world runs on its own faster clock (now ${fmt.time(new Date(clock.now).toISOString())}, world day ${clock.world.daysDone}), and the ledger is dated on it too.`
        : ' The server runs on real time.'}
    </p>
  );
}

function EntryRow({ entry, open = false }: { entry: LedgerEntry; open?: boolean }) {
  const about = aboutText(entry);
  return (
    <details className="entry" open={open}>
      <summary>
        <span className="seq">#{entry.seq}</span> <span className="etype">{entry.type}</span>{' '}
        <span className="muted">
          <time dateTime={entry.ts}>{fmt.time(entry.ts)}</time> · <span title={entry.actor}>{actorText(entry)}</span>
        </span>
        {entry.subjectId ? (
          <span className="muted">
            {' '}
            · {entry.subjectType} {entry.subjectId}
          </span>
        ) : null}
        {about ? <span className="entry-about"> — {about}</span> : null}
      </summary>
      <p className="muted">
        actor id <code>{entry.actor}</code>
      </p>
      <Json value={entry.data} label={`data of entry ${entry.seq}`} />
      <p className="hash">
        hash <code>{entry.hash}</code>
        <br />
        previous <code>{entry.prevHash}</code>
      </p>
    </details>
  );
}
