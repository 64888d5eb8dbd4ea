import { useMemo, useState, type FormEvent } from 'react';
import type { ViewProps } from '../App.tsx';
import { get, type Answer } from '../api/client.ts';
import { COLORS, Lines } from '../components/charts.tsx';
import { Badge, ChurnScoreText, Empty, ErrorNote, Facts, fmt, Loading, outcomeTone, TableScroll } from '../components/ui.tsx';
import { navigate, useLoad } from '../hooks.ts';
import { MergeHistory } from '../components/MergeHistory.tsx';
import { CustomerSearchBox } from '../components/search.tsx';

type Profile = Answer<'/api/v1/customers/{id}/profile', 'get'>;
type TimelineItem = Profile['timeline'][number];
type ConsentOverview = Answer<'/api/v1/customers/{id}/consents', 'get'>;
type FeaturePoint = Answer<'/api/v1/customers/{id}/features/history', 'get'>['data'][number];

/** Find a customer, then see everything about them: Customer 360. */
export function Customers(props: ViewProps) {
  const key = props.rest;
  return key ? <Customer360 {...props} id={key} /> : <CustomerFinder maySearch={props.can('GET', '/search')} />;
}

function CustomerFinder({ maySearch }: { maySearch: boolean }) {
  const [cursor, setCursor] = useState<string[]>([]);
  const list = useLoad(() => get('/api/v1/accounts', { params: { query: { limit: 25, cursor: cursor[cursor.length - 1] } } }), [cursor]);
  return (
    <section aria-labelledby="customers-title">
      <h1 id="customers-title">Customers</h1>
      {maySearch ? (
        <div className="field finder">
          <label htmlFor="customer-key">Find a customer by name, email, phone or id</label>
          <CustomerSearchBox
            id="customer-key"
            label="Find a customer by name, email, phone or id"
            placeholder="e.g. 7590-vhveg, a name, an email or phone digits"
          />
        </div>
      ) : (
        <OpenById />
      )}
      <ErrorNote error={list.error} />
      {list.loading && !list.data ? <Loading what="customers" /> : null}
      {list.data ? (
        <>
          <TableScroll label="Accounts">
            <table>
              <caption>Accounts, in the order they were created</caption>
              <thead>
                <tr>
                  <th scope="col">customer</th>
                  <th scope="col">name</th>
                  <th scope="col">kind</th>
                  <th scope="col">account id</th>
                </tr>
              </thead>
              <tbody>
                {list.data.data.map((a) => (
                  <tr key={a.id}>
                    <th scope="row">
                      <a href={`#/customers/${a.id}`}>{String(a.customerId ?? a.id)}</a>
                    </th>
                    <td>{String(a.name ?? '—')}</td>
                    <td>{String(a.kind ?? '—')}</td>
                    <td>
                      <code>{a.id}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          <div className="button-row">
            <button type="button" className="secondary" disabled={cursor.length === 0} onClick={() => setCursor(cursor.slice(0, -1))}>
              Previous
            </button>
            <button
              type="button"
              className="secondary"
              disabled={!list.data.nextCursor}
              onClick={() => setCursor([...cursor, list.data!.nextCursor!])}
            >
              Next
            </button>
          </div>
        </>
      ) : null}
    </section>
  );
}

const TIMELINE_KINDS = ['signal', 'outcome', 'proposal', 'decision', 'action', 'interaction'];

/** For a role without search: open a customer by their exact customer id or account id. */
function OpenById() {
  const [query, setQuery] = useState('');
  const open = (e: FormEvent) => {
    e.preventDefault();
    if (query.trim()) navigate(`/customers/${encodeURIComponent(query.trim())}`);
  };
  return (
    <form className="filters" onSubmit={open} role="search" aria-label="Open a customer">
      <div className="field">
        <label htmlFor="customer-key">Customer id or account id</label>
        <input
          id="customer-key"
          placeholder="a customer id (e.g. CUST-000001) or acc_…"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <button type="submit">Open</button>
    </form>
  );
}

function Customer360({ id, can }: ViewProps & { id: string }) {
  const profile = useLoad(
    () => get('/api/v1/customers/{id}/profile', { params: { path: { id }, query: { timelineLimit: 200 } } }),
    [id],
    10_000,
  );
  const consents = useLoad(() => get('/api/v1/customers/{id}/consents', { params: { path: { id } } }), [id]);
  const history = useLoad(
    () => get('/api/v1/customers/{id}/features/history', { params: { path: { id }, query: { points: 12, stepDays: 7 } } }),
    [id],
  );

  if (profile.error && !profile.data)
    return (
      <section>
        <h1>Customer {id}</h1>
        <ErrorNote error={profile.error} />
        <p>
          <a href="#/customers">Back to customers</a>
        </p>
      </section>
    );
  if (!profile.data) return <Loading what={`customer ${id}`} />;
  const p = profile.data;
  const a = p.account;
  return (
    <section aria-labelledby="c360-title">
      <p>
        <a href="#/customers">← Customers</a>
      </p>
      <h1 id="c360-title">
        {String(a.name ?? a.customerId ?? a.id)}
        {a.customerId && !String(a.name ?? '').includes(String(a.customerId)) ? (
          <span className="muted"> {String(a.customerId)}</span>
        ) : null}
      </h1>
      {a.customerId && can('GET', '/tasks') ? (
        <p>
          The agents' work for this customer: <a href={`#/work/tasks/${encodeURIComponent(String(a.customerId))}`}>tasks</a>,{' '}
          <a href={`#/work/messages/${encodeURIComponent(String(a.customerId))}`}>messages</a>,{' '}
          <a href={`#/work/credits/${encodeURIComponent(String(a.customerId))}`}>credits</a> and{' '}
          <a href={`#/work/plays/${encodeURIComponent(String(a.customerId))}`}>plays</a>
        </p>
      ) : null}
      <ErrorNote error={profile.error} />
      <div className="grid-2">
        <div className="panel">
          <h2>Profile</h2>
          <Facts
            items={[
              ['account id', <code>{a.id}</code>],
              ['kind', String(a.kind ?? '')],
              ['brand', String(a.brand ?? '')],
              ['segment', String(a.segment ?? '')],
              ['region', String(a.region ?? '')],
              ...Object.entries((a.attributes as Record<string, unknown>) ?? {})
                .slice(0, 12)
                .map(([k, v]) => [k, String(v)] as [string, string]),
            ]}
          />
          <h3>Subscriptions</h3>
          {p.subscriptions.length ? (
            <ul>
              {p.subscriptions.map((s) => (
                <li key={s.id}>
                  {[
                    s.status,
                    s.contract,
                    s.tenureMonths !== undefined && s.tenureMonths !== null ? `${s.tenureMonths} months` : null,
                    s.paymentMethod,
                    typeof s.monthlyAmount === 'number' ? `${fmt.money(s.monthlyAmount)}/month` : null,
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                </li>
              ))}
            </ul>
          ) : (
            <Empty>None.</Empty>
          )}
          <h3>Open cases</h3>
          {p.openCases.length ? (
            <ul>
              {p.openCases.map((c) => (
                <li key={c.id}>
                  {String(c.subject ?? c.id)} · {String(c.status)} · {String(c.priority ?? '')}
                </li>
              ))}
            </ul>
          ) : (
            <Empty>None.</Empty>
          )}
        </div>
        <div className="panel">
          <h2>Identities and merge lineage</h2>
          <TableScroll label="Identities">
            <table>
              <caption className="sr-only">Identities</caption>
              <thead>
                <tr>
                  <th scope="col">kind</th>
                  <th scope="col">value</th>
                  <th scope="col">source</th>
                </tr>
              </thead>
              <tbody>
                {p.identities.map((i) => (
                  <tr key={i.kind + i.value}>
                    <td>{i.kind}</td>
                    <td>{i.value}</td>
                    <td>{i.source}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          <h3>Contacts</h3>
          {p.contacts.length ? (
            <ul>
              {p.contacts.map((c) => (
                <li key={c.id}>
                  {[c.firstName, c.lastName].filter(Boolean).join(' ') || c.id} · {String(c.email ?? '')} {String(c.phone ?? '')}
                </li>
              ))}
            </ul>
          ) : (
            <Empty>None.</Empty>
          )}
          <h3>Merges</h3>
          {can('GET', '/identity/merges') ? (
            <MergeHistory customerId={a.id} mayUndo={can('POST', '/identity/merges/{id}/unmerge')} onUndone={() => void profile.reload()} />
          ) : (
            <p className="muted">Your role cannot read the merge history.</p>
          )}
        </div>
      </div>
      <div className="panel">
        <h2>Consents and their history</h2>
        <ErrorNote error={consents.error} />
        {consents.data?.data.length ? (
          <ConsentTables consents={consents.data} />
        ) : consents.data ? (
          <Empty>No consent recorded: agents may not contact this customer for any purpose.</Empty>
        ) : null}
      </div>
      <FeatureHistory
        history={history.data?.data}
        notes={Object.values(history.data?.notes ?? {})}
        error={history.error}
        current={p.features}
        timeline={p.timeline}
        churn={p.churn}
      />
      <Timeline items={p.timeline} />
    </section>
  );
}

const CONSENT_STATE: Record<ConsentOverview['data'][number]['state'], string> = {
  in_effect: 'in effect',
  superseded: 'superseded by a later record',
  awaiting_confirmation: 'awaiting double opt-in confirmation',
  scheduled: 'not in force yet',
  expired: 'expired',
};

/** What consent allows now, per contact point, channel, purpose and brand, then every record behind it. */
function ConsentTables({ consents }: { consents: ConsentOverview }) {
  return (
    <>
      <h3>In effect now</h3>
      {consents.effective.length ? (
        <TableScroll label="Consent in effect">
          <table>
            <caption className="sr-only">Consent in effect now, per contact point, channel, purpose and brand</caption>
            <thead>
              <tr>
                <th scope="col">contact point</th>
                <th scope="col">channel</th>
                <th scope="col">purpose</th>
                <th scope="col">brand</th>
                <th scope="col">allows contact</th>
                <th scope="col">since</th>
              </tr>
            </thead>
            <tbody>
              {consents.effective.map((e) => (
                <tr key={`${e.contactPoint}|${e.channel}|${e.purpose}|${e.brand}`}>
                  <td>{e.contactPoint ?? <span className="muted">any device</span>}</td>
                  <td>{e.channel}</td>
                  <td>{e.purpose}</td>
                  <td>{e.brand ?? <span className="muted">every brand</span>}</td>
                  <td>
                    <Badge tone={e.grants ? 'good' : 'bad'}>{e.grants ? 'yes' : `no: ${e.status}`}</Badge>
                  </td>
                  <td>{fmt.time(e.capturedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : (
        <Empty>Nothing is in effect now: agents may not contact this customer.</Empty>
      )}
      <h3>Every record</h3>
      <TableScroll label="Consent records">
        <table>
          <caption className="sr-only">Consent records, newest first</caption>
          <thead>
            <tr>
              <th scope="col">captured</th>
              <th scope="col">contact point</th>
              <th scope="col">channel</th>
              <th scope="col">purpose</th>
              <th scope="col">brand</th>
              <th scope="col">status</th>
              <th scope="col">double opt-in</th>
              <th scope="col">source</th>
              <th scope="col">now</th>
            </tr>
          </thead>
          <tbody>
            {consents.data.map((c) => (
              <tr key={c.id}>
                <td>{fmt.time(c.capturedAt as string)}</td>
                <td>{c.contactPoint ? String(c.contactPoint) : <span className="muted">the contact&rsquo;s own</span>}</td>
                <td>{String(c.channel)}</td>
                <td>{String(c.purpose)}</td>
                <td>{c.brand ? String(c.brand) : <span className="muted">every brand</span>}</td>
                <td>
                  <Badge tone={c.status === 'granted' ? 'good' : 'bad'}>{String(c.status)}</Badge>
                </td>
                <td>
                  {c.doubleOptIn ? (
                    c.confirmedAt ? (
                      `confirmed ${fmt.time(c.confirmedAt as string)}`
                    ) : (
                      'not confirmed'
                    )
                  ) : (
                    <span className="muted">no</span>
                  )}
                </td>
                <td>{String(c.source ?? '')}</td>
                <td>
                  {c.inEffect ? (
                    <Badge tone="good">in effect</Badge>
                  ) : (
                    <span className="muted">{CONSENT_STATE[c.state] ?? 'not in force'}</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </>
  );
}

function FeatureHistory({
  history,
  notes,
  error,
  current,
  timeline,
  churn,
}: {
  history?: FeaturePoint[];
  notes: string[];
  error: string | null;
  current: Profile['features'];
  timeline: TimelineItem[];
  churn: Profile['churn'];
}) {
  const numeric = useMemo(() => {
    const names = new Set<string>();
    for (const point of history ?? []) for (const [k, v] of Object.entries(point.features)) if (typeof v === 'number') names.add(k);
    return [...names].sort();
  }, [history]);
  const [feature, setFeature] = useState('usage7d');
  const chosen = numeric.includes(feature) ? feature : numeric[0];
  const labels = history?.map((h) => h.asOf.slice(5, 10)) ?? [];
  // The agents' own scores, as they recorded them: the expected value of each proposal, oldest first.
  const proposals = timeline.filter((t) => t.kind === 'proposal').reverse();
  const agents = [...new Set(proposals.map((p) => String(p.summary.agentId)))];
  const palette = [COLORS.primary, COLORS.approval, COLORS.accent, COLORS.heldOut];
  return (
    <div className="panel">
      <h2>Features and scores over time</h2>
      <ErrorNote error={error} />
      {current ? <p className="muted">Current features as of {fmt.time(current.asOf)}.</p> : null}
      <p>
        {churn.decided ? (
          <>
            Churn probability the latest decision used: <ChurnScoreText score={churn.decided} />.
          </>
        ) : (
          'No decision has used a churn score for this customer yet.'
        )}
      </p>
      {churn.current ? (
        <p className="muted">
          {churn.decided ? 'Fresh score, not the decided one: ' : 'Fresh score: '}
          <ChurnScoreText score={churn.current} />
          {churn.current.sameModelAsDecided === false ? (
            <>
              {' '}
              <Badge tone="warn">different model version</Badge>
            </>
          ) : null}
          {/* Without a decided score the label would repeat the line above. */}
          {churn.decided ? `. ${churn.current.label}.` : '.'}
        </p>
      ) : null}
      {history && history.length ? (
        <div className="grid-2">
          <div>
            <div className="field inline">
              <label htmlFor="feature-pick">Feature</label>
              <select id="feature-pick" value={chosen} onChange={(e) => setFeature(e.target.value)}>
                {numeric.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </div>
            {chosen ? (
              <Lines
                title={`${chosen}, weekly`}
                labels={labels}
                series={[
                  {
                    name: chosen,
                    color: COLORS.primary,
                    values: history.map((h) => (typeof h.features[chosen] === 'number' ? (h.features[chosen] as number) : null)),
                  },
                ]}
              />
            ) : null}
          </div>
          {proposals.length ? (
            <Lines
              title="Expected value of each proposal (dollars)"
              labels={proposals.map((p) => p.at.slice(5, 10))}
              format={(n) => `$${Math.round(n)}`}
              series={agents.map((agent, i) => ({
                name: agent,
                color: palette[i % palette.length]!,
                values: proposals.map((p) => (String(p.summary.agentId) === agent ? Number(p.summary.ev) : null)),
              }))}
            />
          ) : (
            <p className="muted">No agent has proposed anything for this customer yet.</p>
          )}
        </div>
      ) : history ? (
        <Empty>No signals yet, so no features.</Empty>
      ) : (
        <Loading what="feature history" />
      )}
      {notes.length ? (
        <ul className="muted">
          {notes.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

function summaryOf(item: TimelineItem): string {
  const s = item.summary;
  switch (item.kind) {
    case 'proposal':
      return `${s.agentId} proposed (EV ${fmt.money(s.ev as number)}), ${s.status}${s.statusReason ? `: ${s.statusReason}` : ''}. ${s.reason ?? ''}`;
    case 'decision':
      return `policy ${(s.policyIds as string[] | undefined)?.join(', ') || '(default)'}: ${(s.reasons as string[] | undefined)?.join('; ') ?? ''}`;
    case 'action':
      return `${s.status}${s.idempotencyKey ? ` · ${s.idempotencyKey}` : ''}`;
    default:
      return Object.entries(s)
        .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
        .map(([k, v]) => `${k}: ${v}`)
        .join(' · ');
  }
}

function Timeline({ items }: { items: TimelineItem[] }) {
  const [shown, setShown] = useState<Set<string>>(new Set(TIMELINE_KINDS));
  const visible = items.filter((i) => shown.has(i.kind));
  return (
    <div className="panel">
      <h2>Timeline</h2>
      <fieldset className="kinds">
        <legend>Show</legend>
        {TIMELINE_KINDS.map((k) => (
          <label key={k}>
            <input
              type="checkbox"
              checked={shown.has(k)}
              onChange={() => {
                const n = new Set(shown);
                if (n.has(k)) n.delete(k);
                else n.add(k);
                setShown(n);
              }}
            />{' '}
            {k}s
          </label>
        ))}
      </fieldset>
      {visible.length === 0 ? (
        <Empty>Nothing to show.</Empty>
      ) : (
        <ol className="timeline">
          {visible.map((i) => (
            <li key={`${i.kind}-${i.id}`} className={`tl-${i.kind}`}>
              <span className="muted">{fmt.time(i.at)}</span>{' '}
              <Badge tone={i.kind === 'decision' || i.kind === 'action' ? outcomeTone(i.type) : 'info'}>{i.kind}</Badge>{' '}
              <strong>{i.type}</strong>
              <span className="tl-summary"> {summaryOf(i)}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
