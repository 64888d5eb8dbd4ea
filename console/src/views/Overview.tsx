import { useContext } from 'react';
import { WorldContext, type ViewProps } from '../App.tsx';
import { get } from '../api/client.ts';
import { Badge, Empty, ErrorNote, fmt, Loading, outcomeTone } from '../components/ui.tsx';
import { useLoad } from '../hooks.ts';

/** What the agents are doing right now: the world's clock and the newest proposals with their fate. */
export function Overview({ me, can }: ViewProps) {
  const w = useContext(WorldContext);
  const mayReadProposals = can('GET', '/proposals');
  const feed = useLoad(
    () => (mayReadProposals ? get('/api/v1/proposals', { params: { query: { limit: 25 } } }) : Promise.resolve(null)),
    [],
    3000,
  );
  const pending = useLoad(
    () => (can('GET', '/kpis') ? get('/api/v1/kpis', { params: { query: { days: 1 } } }) : Promise.resolve(null)),
    [],
    10_000,
  );
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      <p>
        Signed in as {me.name} ({me.role}).
      </p>
      <ErrorNote error={feed.error ?? pending.error} />
      <div className="stats">
        <div className="stat">
          <span className="stat-label">server clock</span>
          <span className="stat-value">{w ? fmt.time(new Date(w.now).toISOString()) : '…'}</span>
        </div>
        <div className="stat">
          <span className="stat-label">demo world</span>
          <span className="stat-value">{w ? (w.world ? `day ${w.world.daysDone} (seed ${w.world.seed})` : 'not running') : '…'}</span>
        </div>
        {pending.data ? (
          <div className="stat">
            <span className="stat-label">waiting for a human</span>
            <span className="stat-value">
              <a href="#/queue">{pending.data.approvalsPending} approvals</a>
            </span>
          </div>
        ) : null}
        {pending.data ? (
          <div className="stat" id="expired-unreviewed">
            <span className="stat-label">expired without review</span>
            <span className="stat-value">{pending.data.approvalsExpired.total} approvals</span>
            <span className="stat-label">{pending.data.approvalsExpired.inRange} of them today</span>
          </div>
        ) : null}
      </div>
      {mayReadProposals ? (
        <>
          <h2>
            Agents at work <span className="muted">(newest first, live)</span>
          </h2>
          {feed.loading && !feed.data ? <Loading what="activity" /> : null}
          {feed.data && feed.data.data.length === 0 ? (
            <Empty>No proposals yet. With the demo world running, agents start proposing within a simulated day.</Empty>
          ) : null}
          <ol className="feed" aria-live="off">
            {feed.data?.data.map((p) => {
              const fate = p.decision?.outcome ?? p.status;
              return (
                <li key={p.id}>
                  <span className="muted">{fmt.time(p.createdAt)}</span> <strong>{p.agentId}</strong> proposed{' '}
                  <strong>{p.action.replace(/_/g, ' ')}</strong> for{' '}
                  {p.accountId ? <a href={`#/customers/${p.accountId}`}>{p.customerId ?? p.accountId}</a> : `lead ${p.leadId}`} (EV{' '}
                  {fmt.money(p.ev.value)}) <Badge tone={outcomeTone(fate)}>{fate.replace('_', ' ')}</Badge>
                  {p.statusReason ? <span className="muted"> {p.statusReason}</span> : null}
                </li>
              );
            })}
          </ol>
        </>
      ) : null}
    </section>
  );
}
