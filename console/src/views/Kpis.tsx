import { useState } from 'react';
import type { ViewProps } from '../App.tsx';
import { get, type Answer } from '../api/client.ts';
import { COLORS, Lines, Ranking, StackedBars } from '../components/charts.tsx';
import { Empty, ErrorNote, fmt, Loading, TableScroll } from '../components/ui.tsx';
import { useLoad } from '../hooks.ts';

type KpiData = Answer<'/api/v1/kpis', 'get'>;

type Metric = KpiData['metrics']['operational']['handleTime'];
type Comparison = KpiData['uplift'][number]['byAction'][number];

const SECTIONS: { key: keyof KpiData['metrics']; title: string }[] = [
  { key: 'operational', title: 'Operational' },
  { key: 'business', title: 'Business' },
  { key: 'aiQuality', title: 'AI quality' },
];

function value(m: Metric): string {
  if (m.value === null) return '—';
  if (m.unit === 'share') return fmt.pct(m.value);
  if (m.unit === 'hours') return `${m.value.toFixed(1)} h`;
  if (m.unit === 'per1000') return `${m.value.toFixed(1)} per 1,000 sentences`;
  if (m.unit === 'count') return String(m.value);
  return fmt.money(m.value);
}

/** Each KPI with its value, what it was computed from, and its definition: a number is only as good as what it means. */
function KpiTable({ title, metrics }: { title: string; metrics: Record<string, Metric> }) {
  return (
    <TableScroll label={`${title} KPIs`}>
      <table>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">KPI</th>
            <th scope="col">value</th>
            <th scope="col">from</th>
            <th scope="col">definition</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(metrics).map(([key, m]) => (
            <tr key={key}>
              <th scope="row">{m.label}</th>
              <td>{value(m)}</td>
              <td>
                {m.value === null ? (
                  <span className="muted">{m.reason}</span>
                ) : m.denominator !== undefined ? (
                  `${m.numerator} of ${m.denominator}`
                ) : (
                  ''
                )}
              </td>
              <td>{m.definition}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

/** Per action: treated against holdout, the difference with its interval, and whether the holdout could have shown it. */
function ActionTable({ agentId, rows }: { agentId: string; rows: Comparison[] }) {
  const num = (x: number | null, digits = 3) => (x === null ? '—' : x.toFixed(digits));
  return (
    <TableScroll label={`${agentId} uplift by action`}>
      <table>
        <caption>
          {agentId} by action: p-value, minimum detectable effect (80% power, α = 0.05) and the power the observed difference had
        </caption>
        <thead>
          <tr>
            <th scope="col">action</th>
            <th scope="col">treated</th>
            <th scope="col">holdout</th>
            <th scope="col">difference [95% CI]</th>
            <th scope="col">p</th>
            <th scope="col">MDE</th>
            <th scope="col">power</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr key={a.action}>
              <th scope="row">{a.action}</th>
              <td>
                {fmt.pct(a.treated.rate)} (n={a.treated.customers})
              </td>
              <td>
                {fmt.pct(a.holdout.rate)} (n={a.holdout.customers})
              </td>
              <td>
                {fmt.pct(a.difference)} [{fmt.pct(a.ci95[0])}, {fmt.pct(a.ci95[1])}]
              </td>
              <td>{num(a.power.pValue)}</td>
              <td>{a.power.mde === null ? '—' : fmt.pct(a.power.mde)}</td>
              <td>{a.power.power === null ? '—' : fmt.pct(a.power.power, 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}

const RANGES = [7, 30, 90];

/** Live KPIs: refreshed every five seconds while the world runs. */
export function Kpis(_props: ViewProps) {
  const [days, setDays] = useState(30);
  const kpis = useLoad(() => get('/api/v1/kpis', { params: { query: { days } } }), [days], 5000);
  const k = kpis.data;
  const labels = k?.days.map((d) => d.slice(5)) ?? [];
  return (
    <section aria-labelledby="kpis-title">
      <div className="title-row">
        <h1 id="kpis-title">KPIs</h1>
        <div className="field inline">
          <label htmlFor="kpi-days">Period</label>
          <select id="kpi-days" value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {RANGES.map((d) => (
              <option key={d} value={d}>
                last {d} days
              </option>
            ))}
          </select>
        </div>
        {k ? (
          <span className="muted">
            updated {fmt.time(k.now)} (server clock) · {k.approvalsPending} approvals pending
          </span>
        ) : null}
      </div>
      <ErrorNote error={kpis.error} />
      {kpis.loading && !k ? <Loading what="KPIs" /> : null}
      {k ? (
        <div className="charts">
          <StackedBars
            title="Decisions by outcome"
            labels={labels}
            series={[
              { name: 'executed', color: COLORS.execute, values: k.decisionsByOutcome.map((d) => d.execute) },
              { name: 'sent for approval', color: COLORS.approval, values: k.decisionsByOutcome.map((d) => d.approval) },
              { name: 'denied', color: COLORS.deny, values: k.decisionsByOutcome.map((d) => d.deny) },
              { name: 'held out', color: COLORS.heldOut, values: k.decisionsByOutcome.map((d) => d.heldOut) },
              { name: 'suppressed', color: COLORS.suppressed, values: k.decisionsByOutcome.map((d) => d.suppressed) },
            ]}
          />
          <StackedBars
            title="Signal volume"
            labels={labels}
            series={[{ name: 'signals', color: COLORS.primary, values: k.signalVolume.map((d) => d.total) }]}
          />
          <Lines
            title="Approval latency (hours, server clock)"
            labels={labels}
            format={(n) => n.toFixed(1)}
            series={[
              { name: 'median', color: COLORS.primary, values: k.approvalLatency.map((d) => d.medianHours) },
              { name: '90th percentile', color: COLORS.approval, values: k.approvalLatency.map((d) => d.p90Hours) },
            ]}
          />
          <Ranking
            title="Policy denials by reason"
            color={COLORS.deny}
            rows={k.denialsByPolicy.map((d) => ({ label: d.policyId, value: d.count, note: d.reason }))}
          />
          <div className="chart-group">
            <h2>Treated against holdout, cumulative, with 95% confidence bands</h2>
            {k.uplift.length === 0 ? <Empty>No outcomes recorded for treated or held-out customers yet.</Empty> : null}
            <div className="intervals">
              {k.uplift.map((u) => (
                <div key={u.agentId}>
                  <Lines
                    labels={labels}
                    format={(n) => `${Math.round(n * 100)}%`}
                    title={`${u.agentId}: ${u.outcome} rate, ${u.better} is better. Now treated ${fmt.pct(u.treated.rate)} (n=${u.treated.customers}) against holdout ${fmt.pct(u.holdout.rate)} (n=${u.holdout.customers}); difference ${fmt.pct(u.difference)} [95% CI ${fmt.pct(u.ci95[0])}, ${fmt.pct(u.ci95[1])}]`}
                    series={[
                      {
                        name: 'treated',
                        color: COLORS.primary,
                        values: u.series.map((p) => (p.treated.customers ? p.treated.rate : null)),
                      },
                      {
                        name: 'holdout',
                        color: COLORS.heldOut,
                        dashed: true,
                        values: u.series.map((p) => (p.holdout.customers ? p.holdout.rate : null)),
                      },
                    ]}
                    bands={[
                      {
                        name: 'treated 95% CI',
                        color: COLORS.primary,
                        lower: u.series.map((p) => (p.treated.customers ? p.treated.ci95[0] : null)),
                        upper: u.series.map((p) => (p.treated.customers ? p.treated.ci95[1] : null)),
                      },
                      {
                        name: 'holdout 95% CI',
                        color: COLORS.heldOut,
                        lower: u.series.map((p) => (p.holdout.customers ? p.holdout.ci95[0] : null)),
                        upper: u.series.map((p) => (p.holdout.customers ? p.holdout.ci95[1] : null)),
                      },
                    ]}
                  />
                  {u.byAction.length ? <ActionTable agentId={u.agentId} rows={[...u.byAction, { action: 'all actions', ...u }]} /> : null}
                </div>
              ))}
            </div>
          </div>
          {k.metrics ? (
            <div className="chart-group">
              <h2>KPIs and their definitions</h2>
              {SECTIONS.map((sec) => (
                <KpiTable key={sec.key} title={sec.title} metrics={k.metrics[sec.key] as Record<string, Metric>} />
              ))}
            </div>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
