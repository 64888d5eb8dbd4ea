import type { ReactNode } from 'react';

export function ErrorNote({ error }: { error: string | null | undefined }) {
  if (!error) return null;
  return (
    <p className="note error" role="alert">
      {error}
    </p>
  );
}

/** A polite live region: screen readers hear what just happened without losing their place. */
export function StatusNote({ message }: { message: string | null | undefined }) {
  return (
    <p className="note status" role="status" aria-live="polite">
      {message ?? ''}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="muted empty">{children}</p>;
}

/** A table that may scroll sideways on a narrow screen; keyboard users can focus it to scroll. */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

export function Json({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre className="json" aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** A definition list from label → value pairs; empty values show as a dash. */
export function Facts({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v === null || v === undefined || v === '' ? '—' : v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Badge({ tone, children }: { tone: 'good' | 'warn' | 'bad' | 'info' | 'plain'; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

export const outcomeTone = (outcome: string | null | undefined) =>
  outcome === 'execute' || outcome === 'approved' || outcome === 'done'
    ? 'good'
    : outcome === 'deny' || outcome === 'rejected' || outcome === 'failed'
      ? 'bad'
      : outcome === 'approval' || outcome === 'pending'
        ? 'warn'
        : 'plain';

export const fmt = {
  time: (iso: string | null | undefined) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 16) + ' UTC' : '—'),
  money: (dollars: number | null | undefined) =>
    dollars === null || dollars === undefined ? '—' : `${dollars < 0 ? '−' : ''}$${Math.abs(dollars).toFixed(2)}`,
  cents: (cents: number | null | undefined) => (cents === null || cents === undefined ? '—' : `$${(cents / 100).toFixed(2)}`),
  pct: (rate: number | null | undefined, digits = 1) => (rate === null || rate === undefined ? '—' : `${(rate * 100).toFixed(digits)}%`),
  num: (n: number | null | undefined, digits = 2) =>
    n === null || n === undefined ? '—' : Number.isInteger(n) ? String(n) : n.toFixed(digits),
  /** Time left until `iso` on the server's clock. */
  until: (iso: string, now: number) => {
    const ms = Date.parse(iso) - now;
    if (ms <= 0) return 'expired';
    const h = Math.floor(ms / 3_600_000);
    return h >= 48 ? `${Math.floor(h / 24)} d left` : h >= 1 ? `${h} h left` : `${Math.max(1, Math.floor(ms / 60_000))} min left`;
  },
};

export const AUTONOMY_LABELS = [
  'L0 off',
  'L1 suggest',
  'L2 draft for approval',
  'L3 execute low risk',
  'L4 execute, escalate exceptions',
  'L5 plan across domains',
];

/** A churn score as the API gives it (`ChurnScore`): the card and the Customer 360 both show it with this. */
export interface ChurnScoreView {
  probability: number;
  model: { name: string; version: string } | null;
  scoredAt: string;
}

/** "82.1% (model churn v3, scored …)": the one way the console writes a churn score, so the card and the 360 read alike. */
export function ChurnScoreText({ score }: { score: ChurnScoreView }) {
  return (
    <>
      <strong>{fmt.pct(score.probability)}</strong> (
      {score.model ? (
        <>
          model <code>{score.model.name}</code> v<code>{score.model.version}</code>
        </>
      ) : (
        'documented rules'
      )}
      , scored {fmt.time(score.scoredAt)})
    </>
  );
}
