import { TableScroll } from './ui.tsx';

// Small SVG charts, no library: each has a title, an accessible description and its numbers in a table.

export interface Series {
  name: string;
  color: string;
  values: (number | null)[];
  /** Drawn dashed, so two lines differ by more than their colour. */
  dashed?: boolean;
}

/** A shaded interval around a series (e.g. a 95% confidence band). */
export interface Band {
  name: string;
  color: string;
  lower: (number | null)[];
  upper: (number | null)[];
}

const W = 560;
const H = 200;
const PAD = { left: 44, right: 8, top: 8, bottom: 28 };

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * magnitude >= max)!;
  return step * magnitude;
}

function Axes({ labels, max, format }: { labels: string[]; max: number; format: (n: number) => string }) {
  const innerH = H - PAD.top - PAD.bottom;
  const ticks = [0, 0.5, 1].map((f) => ({ y: PAD.top + innerH * (1 - f), v: max * f }));
  const every = Math.max(1, Math.ceil(labels.length / 6));
  const x = (i: number) => PAD.left + ((W - PAD.left - PAD.right) * (i + 0.5)) / Math.max(1, labels.length);
  return (
    <g className="axes" aria-hidden="true">
      {ticks.map((t) => (
        <g key={t.y}>
          <line x1={PAD.left} x2={W - PAD.right} y1={t.y} y2={t.y} className="grid" />
          <text x={PAD.left - 4} y={t.y + 4} textAnchor="end">
            {format(t.v)}
          </text>
        </g>
      ))}
      {labels.map((l, i) =>
        i % every === 0 ? (
          <text key={l + i} x={x(i)} y={H - 8} textAnchor="middle">
            {l}
          </text>
        ) : null,
      )}
    </g>
  );
}

function Legend({ series }: { series: Pick<Series, 'name' | 'color' | 'dashed'>[] }) {
  return (
    <ul className="legend">
      {series.map((s) => (
        <li key={s.name}>
          <span className={`swatch${s.dashed ? ' dashed' : ''}`} style={{ background: s.color }} aria-hidden="true" />
          {s.name}
          {s.dashed ? ' (dashed)' : ''}
        </li>
      ))}
    </ul>
  );
}

function DataTable({
  caption,
  labels,
  series: lines,
  bands = [],
  format,
}: {
  caption: string;
  labels: string[];
  series: Series[];
  bands?: Band[];
  format: (n: number) => string;
}) {
  // Each band's bounds are columns of their own, beside the lines.
  const series: Pick<Series, 'name' | 'values'>[] = [
    ...lines,
    ...bands.flatMap((b) => [
      { name: `${b.name}, lower`, values: b.lower },
      { name: `${b.name}, upper`, values: b.upper },
    ]),
  ];
  return (
    <details className="chart-data">
      <summary>Numbers</summary>
      <TableScroll label={`${caption}: numbers`}>
        <table>
          <caption className="sr-only">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">day</th>
              {series.map((s) => (
                <th scope="col" key={s.name}>
                  {s.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {labels.map((l, i) => (
              <tr key={l + i}>
                <th scope="row">{l}</th>
                {series.map((s) => (
                  <td key={s.name}>{s.values[i] === null || s.values[i] === undefined ? '—' : format(s.values[i]!)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </details>
  );
}

/** Stacked bars, one stack per label. */
export function StackedBars({
  title,
  labels,
  series,
  format = String,
}: {
  title: string;
  labels: string[];
  series: Series[];
  format?: (n: number) => string;
}) {
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const band = innerW / Math.max(1, labels.length);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title}: ${labels.length} days, ${totals.reduce((a, b) => a + b, 0)} in all`}>
        <Axes labels={labels} max={max} format={format} />
        {labels.map((l, i) => {
          let y = PAD.top + innerH;
          return (
            <g key={l + i}>
              {series.map((s) => {
                const v = s.values[i] ?? 0;
                const h = (v / max) * innerH;
                y -= h;
                return v > 0 ? (
                  <rect key={s.name} x={PAD.left + i * band + band * 0.15} width={band * 0.7} y={y} height={h} fill={s.color}>
                    <title>{`${l} ${s.name}: ${format(v)}`}</title>
                  </rect>
                ) : null;
              })}
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
      <DataTable caption={title} labels={labels} series={series} format={format} />
    </figure>
  );
}

/** Lines over labels; null values leave gaps. Optional bands draw a shaded interval per series. */
export function Lines({
  title,
  labels,
  series,
  format = String,
  bands = [],
}: {
  title: string;
  labels: string[];
  series: Series[];
  format?: (n: number) => string;
  bands?: Band[];
}) {
  const all = [...series.flatMap((s) => s.values), ...bands.flatMap((b) => b.upper)].filter((v): v is number => v !== null);
  const max = niceMax(Math.max(0, ...all));
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (innerW * (i + 0.5)) / Math.max(1, labels.length);
  const y = (v: number) => PAD.top + innerH * (1 - v / max);
  const path = (values: (number | null)[]) =>
    values
      .map((v, i) => (v === null ? '' : `${i === 0 || values[i - 1] === null ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`))
      .join(' ');
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${title}: ${series.map((s) => s.name).join(', ')} over ${labels.length} points`}
      >
        <Axes labels={labels} max={max} format={format} />
        {bands.map((b, k) => {
          const pts = b.upper.map((u, i) => (u === null || b.lower[i] === null ? null : i)).filter((i): i is number => i !== null);
          if (pts.length === 0) return null;
          const d = `M${pts.map((i) => `${x(i)},${y(b.upper[i]!)}`).join(' L')} L${[...pts]
            .reverse()
            .map((i) => `${x(i)},${y(b.lower[i]!)}`)
            .join(' L')} Z`;
          return <path key={k} d={d} fill={b.color} opacity={0.18} />;
        })}
        {series.map((s) => (
          <g key={s.name}>
            <path d={path(s.values)} fill="none" stroke={s.color} strokeWidth={2} strokeDasharray={s.dashed ? '6 4' : undefined} />
            {s.values.map((v, i) =>
              v === null ? null : (
                <circle key={i} cx={x(i)} cy={y(v)} r={2.5} fill={s.color}>
                  <title>{`${labels[i]} ${s.name}: ${format(v)}`}</title>
                </circle>
              ),
            )}
          </g>
        ))}
      </svg>
      <Legend series={series} />
      <DataTable caption={title} labels={labels} series={series} bands={bands} format={format} />
    </figure>
  );
}

/** Horizontal bars for a ranking (e.g. denials by policy). */
export function Ranking({ title, rows, color }: { title: string; rows: { label: string; value: number; note?: string }[]; color: string }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      {rows.length === 0 ? (
        <p className="muted">None in this period.</p>
      ) : (
        <ul className="ranking">
          {rows.map((r) => (
            <li key={`${r.label} ${r.note ?? ''}`}>
              <span className="ranking-label">
                {r.label}
                {r.note ? <span className="muted"> — {r.note}</span> : null}
              </span>
              <span className="ranking-bar" aria-hidden="true">
                <span style={{ width: `${(r.value / max) * 100}%`, background: color }} />
              </span>
              <span className="ranking-value">{r.value}</span>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}

/** The palette: each colour keeps 3:1 contrast against white for graphics (WCAG 1.4.11). */
export const COLORS = {
  execute: '#1b7f3b',
  approval: '#b25e00',
  deny: '#c62828',
  heldOut: '#5e35b1',
  suppressed: '#6b7280',
  primary: '#1a4d8f',
  accent: '#00838f',
};
