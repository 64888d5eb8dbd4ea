import { useContext, useEffect, useRef, useState, type FormEvent } from 'react';
import { WorldContext, type ViewProps } from '../App.tsx';
import { describeError, get, post, type Answer } from '../api/client.ts';
import { Badge, Empty, ErrorNote, Facts, fmt, Loading, StatusNote } from '../components/ui.tsx';
import { highlight } from '../highlight.ts';
import { useLoad } from '../hooks.ts';

type Source = Answer<'/api/v1/knowledge/sources', 'get'>['data'][number];
type SearchAnswer = Answer<'/api/v1/knowledge/search', 'get'>;
type Hit = SearchAnswer['results'][number];
type Use = 'customer' | 'internal';

const STATE_TONE = { draft: 'warn', approved: 'good', retired: 'plain' } as const;
const RANKINGS = [
  ['lexical', 'BM25'],
  ['trigram', 'trigram'],
  ['semantic', 'embeddings'],
] as const;

/** The knowledge base: its sources with their state (admins approve and retire them), and a search over it. */
/** Whether the detector's finding on a passage flagged it: every chunk carries a finding, most of them clean. */
const injectionFlagged = (finding: unknown): boolean =>
  typeof finding === 'object' && finding !== null && (finding as { flagged?: unknown }).flagged === true;

export function Knowledge({ me, can }: ViewProps) {
  const sources = useLoad(() => get('/api/v1/knowledge/sources'), [], 30_000);
  const [message, setMessage] = useState<string | null>(null);
  const world = useContext(WorldContext);
  // The server's day decides whether a review date has passed (the live world's clock may run ahead of the wall's).
  const today = world ? new Date(world.now).toISOString().slice(0, 10) : null;
  const mayApprove = can('POST', '/knowledge/sources/{id}/approve');
  const mayRetire = can('POST', '/knowledge/sources/{id}/retire');
  const list = sources.data?.data ?? [];

  return (
    <section aria-labelledby="kb-title">
      <h1 id="kb-title">Knowledge</h1>
      <p className="muted">
        The documents ACS's text may rest on. Only approved sources whose review date has not passed ground what customers read; internal
        sources are for staff.
      </p>
      <section aria-labelledby="kb-sources-title">
        <h2 id="kb-sources-title">Sources</h2>
        <StatusNote message={message} />
        <ErrorNote error={sources.error} />
        {sources.loading && !sources.data ? <Loading what="knowledge sources" /> : null}
        {sources.data && list.length === 0 ? (
          <Empty>
            No knowledge sources yet. An admin imports documents with <code>acs kb import DIR</code> or the API.
          </Empty>
        ) : null}
        {!mayApprove && list.length ? (
          <p className="muted">Your role ({me.role}) can read the sources but not approve or retire them.</p>
        ) : null}
        {list.length ? (
          <ul className="kb-sources" aria-label="Knowledge sources">
            {list.map((s) => (
              <SourceCard
                // Remounted when the source changes, so an open confirmation never acts on a stale version.
                key={`${s.id} ${s.state} ${s.version} ${s.reviewDate}`}
                source={s}
                today={today}
                mayApprove={mayApprove}
                mayRetire={mayRetire}
                onDone={async (msg) => {
                  setMessage(msg);
                  await sources.reload();
                }}
              />
            ))}
          </ul>
        ) : null}
      </section>
      <Search defaultUse={me.role === 'agent' ? 'customer' : 'internal'} mayDrafts={me.role === 'admin'} />
    </section>
  );
}

function reviewPassed(s: Source, today: string | null): boolean {
  if (!s.reviewDate) return false;
  // Before the server clock is read, the server's own verdict on approved sources stands in.
  return today ? s.reviewDate < today : s.state === 'approved' && !s.current;
}

function SourceCard({
  source: s,
  today,
  mayApprove,
  mayRetire,
  onDone,
}: {
  source: Source;
  today: string | null;
  mayApprove: boolean;
  mayRetire: boolean;
  onDone: (msg: string) => Promise<void>;
}) {
  const [asking, setAsking] = useState<'approve' | 'retire' | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [reviewDate, setReviewDate] = useState('');
  const [reason, setReason] = useState('');
  const confirmRef = useRef<HTMLDivElement>(null);
  const approveRef = useRef<HTMLButtonElement>(null);
  const retireRef = useRef<HTMLButtonElement>(null);
  const passed = reviewPassed(s, today);
  const titleId = `kbs-${s.id}`;
  // Approving approves the current version: a draft, or an approved source whose review date passed (with a new one).
  const canApproveNow = mayApprove && (s.state === 'draft' || (s.state === 'approved' && passed));
  const canRetireNow = mayRetire && s.state !== 'retired';

  // Asking moves focus into the question; closing it without acting puts focus back on the button that opened it.
  const opened = useRef<'approve' | 'retire' | null>(null);
  useEffect(() => {
    if (asking) {
      opened.current = asking;
      confirmRef.current?.querySelector<HTMLElement>('input, button')?.focus();
    } else if (opened.current) {
      (opened.current === 'approve' ? approveRef : retireRef).current?.focus();
      opened.current = null;
    }
  }, [asking]);

  const cancel = () => {
    setAsking(null);
    setError(null);
  };

  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (asking === 'approve') {
        const body = reviewDate ? { reviewDate } : {};
        const done = await post('/api/v1/knowledge/sources/{id}/approve', { params: { path: { id: s.id } }, body });
        await onDone(`Approved ${done.name} at version ${done.version}${done.reviewDate ? `, review by ${done.reviewDate}` : ''}.`);
      } else {
        const body = reason.trim() ? { reason: reason.trim() } : {};
        const done = await post('/api/v1/knowledge/sources/{id}/retire', { params: { path: { id: s.id } }, body });
        await onDone(`Retired ${done.name}: no search finds it any more.`);
      }
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <li className="card kb-source">
      <h3 id={titleId}>
        {s.name} <Badge tone={STATE_TONE[s.state]}>{s.state}</Badge>{' '}
        {passed && s.state !== 'retired' ? <Badge tone="bad">review date passed</Badge> : null}
      </h3>
      <Facts
        items={[
          ['owner', s.owner],
          ['audience', s.audience === 'customer' ? 'customer-facing' : 'internal only'],
          [
            'version',
            s.approvedVersion !== null && s.approvedVersion !== s.version ? `${s.version} (approved: ${s.approvedVersion})` : s.version,
          ],
          ['review date', s.reviewDate ? (passed ? `${s.reviewDate} (passed)` : s.reviewDate) : 'none due'],
          ['documents', `${s.documents} (${s.chunks} ${s.chunks === 1 ? 'passage' : 'passages'})`],
          ['grounds customer text', s.audience === 'customer' && s.current ? 'yes' : 'no'],
          ['approved', s.approvedAt ? `${fmt.time(s.approvedAt)} by ${s.approvedBy ?? 'unknown'}` : 'never'],
        ]}
      />
      {asking ? (
        <form
          className="panel kb-confirm"
          onSubmit={confirm}
          aria-labelledby={`${titleId}-ask`}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && !busy) cancel();
          }}
        >
          <div ref={confirmRef}>
            <p id={`${titleId}-ask`}>
              {asking === 'approve' ? (
                <>
                  Approve <strong>{s.name}</strong> at version {s.version}?{' '}
                  {s.audience === 'customer' ? 'Its text may then ground what customers read.' : 'Staff searches will then find it.'}
                </>
              ) : (
                <>
                  Retire <strong>{s.name}</strong>? No search, for any use, will find it any more.
                </>
              )}
            </p>
            {asking === 'approve' ? (
              <div className="field">
                <label htmlFor={`${titleId}-date`}>New review date {passed ? '(needed: the current one has passed)' : '(optional)'}</label>
                <input
                  id={`${titleId}-date`}
                  type="date"
                  value={reviewDate}
                  min={today ?? undefined}
                  required={passed && s.state === 'approved'}
                  onChange={(e) => setReviewDate(e.target.value)}
                />
              </div>
            ) : (
              <div className="field">
                <label htmlFor={`${titleId}-reason`}>Reason (optional, kept in the ledger)</label>
                <input id={`${titleId}-reason`} type="text" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
              </div>
            )}
            <ErrorNote error={error} />
            <div className="button-row">
              <button type="submit" className={asking === 'retire' ? 'danger' : undefined} disabled={busy}>
                {asking === 'approve' ? 'Confirm approval' : 'Confirm retirement'}
              </button>
              <button type="button" className="secondary" onClick={cancel} disabled={busy}>
                Cancel
              </button>
            </div>
          </div>
        </form>
      ) : canApproveNow || canRetireNow ? (
        <div className="button-row">
          {canApproveNow ? (
            <button type="button" ref={approveRef} onClick={() => setAsking('approve')} aria-describedby={titleId}>
              Approve
            </button>
          ) : null}
          {canRetireNow ? (
            <button type="button" ref={retireRef} className="secondary" onClick={() => setAsking('retire')} aria-describedby={titleId}>
              Retire
            </button>
          ) : null}
        </div>
      ) : null}
    </li>
  );
}

interface Question {
  q: string;
  k: number;
  use: Use;
  includeDrafts: boolean;
}

function Search({ defaultUse, mayDrafts }: { defaultUse: Use; mayDrafts: boolean }) {
  const [q, setQ] = useState('');
  const [k, setK] = useState('5');
  const [use, setUse] = useState<Use>(defaultUse);
  const [includeDrafts, setIncludeDrafts] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [asked, setAsked] = useState<Question | null>(null);
  const [answer, setAnswer] = useState<SearchAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const generation = useRef(0);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = Number(k);
    if (!q.trim()) return setFormError('Type what to search for.');
    if (!Number.isInteger(n) || n < 1 || n > 50) return setFormError('Results: a whole number from 1 to 50.');
    setFormError(null);
    const question = { q: q.trim(), k: n, use, includeDrafts: mayDrafts && use === 'internal' && includeDrafts };
    const mine = ++generation.current;
    setAsked(question);
    setLoading(true);
    setError(null);
    try {
      const found = await get('/api/v1/knowledge/search', {
        params: {
          query: { q: question.q, k: question.k, use: question.use, ...(question.includeDrafts ? { includeDrafts: 'true' as const } : {}) },
        },
      });
      if (mine === generation.current) setAnswer(found);
    } catch (err) {
      if (mine === generation.current) {
        setAnswer(null);
        setError(describeError(err));
      }
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };

  const results = answer?.results ?? [];
  return (
    <section aria-labelledby="kb-search-title">
      <h2 id="kb-search-title">Search</h2>
      <form className="filters kb-search" onSubmit={submit} role="search" aria-label="Search the knowledge base" noValidate>
        <div className="field kb-q">
          <label htmlFor="kb-q">Question or words</label>
          <input
            id="kb-q"
            type="search"
            value={q}
            maxLength={500}
            onChange={(e) => setQ(e.target.value)}
            aria-describedby="kb-form-error"
          />
        </div>
        <div className="field">
          <label htmlFor="kb-k">Results</label>
          <input
            id="kb-k"
            type="number"
            inputMode="numeric"
            min={1}
            max={50}
            value={k}
            onChange={(e) => setK(e.target.value)}
            className="kb-k"
          />
        </div>
        <div className="field">
          <label htmlFor="kb-use">Intended use</label>
          <select id="kb-use" value={use} onChange={(e) => setUse(e.target.value as Use)}>
            <option value="customer">customer-facing</option>
            <option value="internal">internal</option>
          </select>
        </div>
        {mayDrafts ? (
          <div className="field kb-drafts">
            <label>
              <input
                type="checkbox"
                checked={includeDrafts && use === 'internal'}
                disabled={use !== 'internal'}
                onChange={(e) => setIncludeDrafts(e.target.checked)}
              />{' '}
              Include drafts (internal use only)
            </label>
          </div>
        ) : null}
        <button type="submit" disabled={loading}>
          Search
        </button>
      </form>
      <p id="kb-form-error" className="note error" role="alert">
        {formError ?? ''}
      </p>
      <p className="muted">
        Customer-facing use searches only approved, current, customer-facing sources; internal use searches approved sources of both
        audiences.
      </p>
      <ErrorNote error={error} />
      <p className="note status kb-summary" role="status" aria-live="polite">
        {loading && asked ? `Searching for “${asked.q}”…` : answer ? summary(answer) : ''}
      </p>
      {answer && !loading && results.length === 0 ? (
        <Empty>
          Nothing matches “{answer.query}” for {answer.use === 'customer' ? 'customer-facing' : 'internal'} use.
        </Empty>
      ) : null}
      {results.length ? (
        <ol className="kb-results" aria-label={`Passages for “${answer!.query}”, best first`}>
          {results.map((r) => (
            <Result key={r.chunkId} hit={r} query={answer!.query} />
          ))}
        </ol>
      ) : null}
    </section>
  );
}

function summary(a: SearchAnswer): string {
  const n = a.results.length;
  const how = [`lexical ${a.retrieval.lexical}`, `trigram ${a.retrieval.trigram}`, `embeddings ${a.retrieval.semantic}`].join(', ');
  return `${n} ${n === 1 ? 'passage' : 'passages'} for “${a.query}”, ${a.use === 'customer' ? 'customer-facing' : 'internal'} use (${how}; fused by reciprocal rank fusion, k = ${a.retrieval.rrfK}).`;
}

function Result({ hit: r, query }: { hit: Hit; query: string }) {
  const ranked = RANKINGS.filter(([key]) => r.ranks[key] !== null).map(([key, label]) => `${label} #${r.ranks[key]}`);
  return (
    <li className="card kb-result">
      <h3 className="kb-path">
        <span className="kb-doc">{r.path}</span>
        {r.headingPath.map((h, i) => (
          <span key={i}>
            {' › '}
            {h}
          </span>
        ))}
      </h3>
      <p className="kb-meta">
        <span>
          score <strong>{r.score.toFixed(4)}</strong>
        </span>
        <span>ranked by {ranked.length ? ranked.join(', ') : 'none'}</span>
        <span>
          {r.source.name} v{r.source.version} <Badge tone={STATE_TONE[r.source.state]}>{r.source.state}</Badge>{' '}
          <Badge tone="plain">{r.source.audience === 'customer' ? 'customer-facing' : 'internal'}</Badge>
        </span>
        {injectionFlagged(r.injection) ? <Badge tone="bad">flagged: possible injection</Badge> : null}
      </p>
      <p className="kb-text">
        {highlight(r.text, query).map((piece, i) => (piece.hit ? <mark key={i}>{piece.text}</mark> : <span key={i}>{piece.text}</span>))}
      </p>
    </li>
  );
}
