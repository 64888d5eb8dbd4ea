import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ViewProps } from '../App.tsx';
import { get, post, patch, describeError, type Answer } from '../api/client.ts';
import { AUTONOMY_LABELS, Badge, ErrorNote, fmt, Loading, StatusNote, TableScroll } from '../components/ui.tsx';
import { useLoad } from '../hooks.ts';

type Registry = Answer<'/api/v1/agents', 'get'>;
type AgentView = Registry['data'][number];
type KillSwitch = Registry['killSwitch'];
type AgentStats = Answer<'/api/v1/agents/stats', 'get'>['data'][number];
type Uplift = NonNullable<AgentStats['uplift']>;
type Effective = AgentView['actions'][string]['effective'];
type Preview = Answer<'/api/v1/agents/{id}/autonomy-preview', 'post'>;

const IN_FORCE: Record<Effective['inForce'], { label: string; tone: 'good' | 'warn' | 'bad' | 'info' }> = {
  execute: { label: 'runs without a human', tone: 'good' },
  approval: { label: 'every one needs approval', tone: 'warn' },
  deny: { label: 'denied', tone: 'bad' },
  varies: { label: 'depends on the request', tone: 'info' },
};

/** The behaviour a level has after policy: a badge, and the sentence naming the policies that make it so. */
function InForce({ effective, id }: { effective: Effective; id?: string }) {
  const f = IN_FORCE[effective.inForce];
  return (
    <span id={id}>
      <Badge tone={f.tone}>in force: {f.label}</Badge> <span className="muted">{effective.summary}</span>
    </span>
  );
}

/** The agent registry: autonomy per action (admins edit it), pause and resume, the kill switch, and how each agent does. */
export function Agents({ can }: ViewProps) {
  const mayEdit = can('PATCH', '/agents/{id}');
  const mayKill = can('POST', '/agents/kill-switch');
  const registry = useLoad(() => get('/api/v1/agents'), [], 10_000);
  const stats = useLoad(
    () =>
      can('GET', '/agents/stats')
        ? get('/api/v1/agents/stats', { params: { query: { days: 30 } } })
        : Promise.resolve({ data: [] as AgentStats[] }),
    [],
    10_000,
  );
  const [status, setStatus] = useState<string | null>(null);

  const change = async (id: string, body: { paused?: boolean; autonomy?: Record<string, number>; reason?: string }, done: string) => {
    try {
      await patch('/api/v1/agents/{id}', { params: { path: { id } }, body });
      setStatus(done);
      await registry.reload();
    } catch (err) {
      setStatus(`Could not change ${id}: ${describeError(err)}`);
    }
  };

  const kill = registry.data?.killSwitch;
  const autoPaused = registry.data?.data.filter((a) => a.paused && a.pausedBy === 'supervisor') ?? [];
  return (
    <section aria-labelledby="agents-title">
      <h1 id="agents-title">Agents</h1>
      <StatusNote message={status} />
      <ErrorNote error={registry.error ?? stats.error} />
      {autoPaused.length ? (
        // The supervisor's alert: an agent it paused on its own stays paused until an admin resumes it.
        <div className="note error" role="alert" aria-label="Agents paused by the supervisor">
          <strong>Paused by the supervisor:</strong>
          <ul>
            {autoPaused.map((a) => (
              <li key={a.id}>
                {a.id}: {a.pauseReason ?? 'no reason recorded'}
              </li>
            ))}
          </ul>
          {mayEdit ? 'Review the agent, then resume it below.' : 'Only an admin can resume it.'}
        </div>
      ) : null}
      {kill ? (
        <KillSwitchPanel
          kill={kill}
          mayKill={mayKill}
          onChanged={async (msg) => {
            setStatus(msg);
            await registry.reload();
          }}
          onError={setStatus}
        />
      ) : null}
      {registry.loading && !registry.data ? <Loading what="agents" /> : null}
      <div className="cards">
        {registry.data?.data.map((agent) => (
          // Remounted when the server's settings change (another admin's edit), so no stale level is saved back.
          <AgentCard
            key={`${agent.id} ${JSON.stringify(agent.actions)} ${agent.paused}`}
            agent={agent}
            stats={stats.data?.data.find((s) => s.agentId === agent.id)}
            mayEdit={mayEdit}
            stopped={kill?.engaged ?? false}
            onChange={change}
          />
        ))}
      </div>
    </section>
  );
}

function KillSwitchPanel({
  kill,
  mayKill,
  onChanged,
  onError,
}: {
  kill: KillSwitch;
  mayKill: boolean;
  onChanged: (msg: string) => Promise<void>;
  onError: (msg: string) => void;
}) {
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setReasonError(null);
    try {
      if (kill.engaged) {
        await post('/api/v1/agents/kill-switch', { body: { engaged: false } });
        await onChanged('Kill switch released: agents that are not paused run again.');
      } else {
        if (!reason.trim()) {
          setReasonError('Say why you stop all agents: the reason is kept with the switch, for everyone to see.');
          return;
        }
        await post('/api/v1/agents/kill-switch', { body: { engaged: true, reason: reason.trim() } });
        setReason('');
        await onChanged('Kill switch engaged: no agent proposes, approves or acts until it is released.');
      }
    } catch (err) {
      onError(`Kill switch: ${describeError(err)}`);
    }
  };
  return (
    <div className={`panel ${kill.engaged ? 'danger-panel' : ''}`} role="region" aria-label="Kill switch">
      <h2>Kill switch</h2>
      {kill.engaged ? (
        <p>
          <Badge tone="bad">engaged</Badge> All agents are stopped since {fmt.time(kill.at)} by {kill.by}: “{kill.reason}”.
        </p>
      ) : (
        <p>
          <Badge tone="good">released</Badge> Agents run as their own settings say.
          {kill.at ? (
            <>
              {' '}
              Released {fmt.time(kill.at)} by {kill.by}
              {kill.reason ? `; it had been engaged for: “${kill.reason}”` : ''}.
            </>
          ) : null}
        </p>
      )}
      {mayKill ? (
        <form onSubmit={submit} className="inline-form" noValidate>
          {!kill.engaged ? (
            <>
              <label htmlFor="kill-reason">Reason</label>
              <input
                id="kill-reason"
                value={reason}
                onChange={(e) => setReason(e.target.value)}
                maxLength={500}
                aria-invalid={reasonError ? true : undefined}
                aria-describedby={reasonError ? 'kill-reason-error' : undefined}
              />
            </>
          ) : null}
          <button type="submit" className={kill.engaged ? undefined : 'danger'}>
            {kill.engaged ? 'Release the kill switch' : 'Stop all agents'}
          </button>
          {reasonError ? (
            <p id="kill-reason-error" className="note error" role="alert">
              {reasonError}
            </p>
          ) : null}
        </form>
      ) : null}
    </div>
  );
}

function UpliftLine({ u }: { u: Uplift }) {
  const helped = u.better === 'lower' ? u.ci95[1] < 0 : u.ci95[0] > 0;
  const hurt = u.better === 'lower' ? u.ci95[0] > 0 : u.ci95[1] < 0;
  return (
    <p>
      {u.outcome}: treated {fmt.pct(u.treated.rate)} (n={u.treated.customers}) against holdout {fmt.pct(u.holdout.rate)} (n=
      {u.holdout.customers}); difference {fmt.pct(u.difference)} [95% CI {fmt.pct(u.ci95[0])} to {fmt.pct(u.ci95[1])}]{' '}
      {helped ? <Badge tone="good">helps</Badge> : hurt ? <Badge tone="bad">hurts</Badge> : <Badge tone="plain">not yet clear</Badge>}
    </p>
  );
}

function AgentCard({
  agent,
  stats,
  mayEdit,
  stopped,
  onChange,
}: {
  agent: AgentView;
  stats: AgentStats | undefined;
  mayEdit: boolean;
  stopped: boolean;
  onChange: (id: string, body: { paused?: boolean; autonomy?: Record<string, number>; reason?: string }, done: string) => Promise<void>;
}) {
  const [levels, setLevels] = useState<Record<string, number>>(() =>
    Object.fromEntries(Object.entries(agent.actions).map(([a, s]) => [a, s.autonomy])),
  );
  const edited = Object.entries(levels).filter(([a, l]) => agent.actions[a]?.autonomy !== l);
  // An autonomy change goes preview → reason → confirm: nothing is saved until the admin has seen what it changes.
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const review = async (e: FormEvent) => {
    e.preventDefault();
    setPreviewError(null);
    try {
      setPreview(
        await post('/api/v1/agents/{id}/autonomy-preview', {
          params: { path: { id: agent.id } },
          body: { autonomy: Object.fromEntries(edited) },
        }),
      );
    } catch (err) {
      setPreviewError(`Could not preview the change: ${describeError(err)}`);
    }
  };
  return (
    <article className="card" aria-labelledby={`agent-${agent.id}`}>
      <div className="title-row">
        <h2 id={`agent-${agent.id}`}>{agent.id}</h2>
        {agent.paused ? (
          <Badge tone="warn">{agent.pausedBy === 'supervisor' ? 'paused by the supervisor' : 'paused'}</Badge>
        ) : stopped ? (
          <Badge tone="bad">stopped by kill switch</Badge>
        ) : (
          <Badge tone="good">running</Badge>
        )}
      </div>
      <p>{agent.objective}</p>
      {agent.paused && agent.pauseReason ? (
        <p className="muted">
          Paused by {agent.pausedBy}: {agent.pauseReason}
        </p>
      ) : null}
      <p className="muted">
        Owner {agent.owner} · risk class {agent.riskClass} · runs on{' '}
        {agent.triggers.schedule ? `a ${agent.triggers.schedule} schedule` : agent.triggers.signalTypes.join(', ')}
      </p>
      <form onSubmit={review} noValidate>
        <TableScroll label={`Autonomy of ${agent.id}`}>
          <table>
            <caption className="sr-only">Autonomy of {agent.id} per action</caption>
            <thead>
              <tr>
                <th scope="col">action</th>
                <th scope="col">risk</th>
                <th scope="col">autonomy configured, and in force after policy</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(agent.actions).map(([action, spec]) => (
                <tr key={action}>
                  <th scope="row">{action}</th>
                  <td>{spec.risk}</td>
                  <td>
                    {mayEdit ? (
                      <select
                        aria-label={`Autonomy of ${agent.id} for ${action}`}
                        value={levels[action]}
                        onChange={(e) => {
                          // A preview is of the levels it was asked for: changing one closes it.
                          setPreview(null);
                          setLevels({ ...levels, [action]: Number(e.target.value) });
                        }}
                      >
                        {AUTONOMY_LABELS.map((label, level) => (
                          <option key={level} value={level}>
                            {label}
                            {level === spec.defaultAutonomy ? ' (default)' : ''}
                          </option>
                        ))}
                      </select>
                    ) : (
                      (AUTONOMY_LABELS[spec.autonomy] ?? `L${spec.autonomy}`)
                    )}
                    <div className="in-force">
                      <InForce effective={spec.effective} />
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
        {mayEdit ? (
          <div className="button-row">
            <button type="submit" disabled={edited.length === 0 || preview !== null}>
              Review autonomy change
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => onChange(agent.id, { paused: !agent.paused }, `${agent.id} ${agent.paused ? 'resumed' : 'paused'}.`)}
            >
              {agent.paused ? 'Resume' : 'Pause'} {agent.id}
            </button>
          </div>
        ) : null}
        {previewError ? (
          <p className="note error" role="alert">
            {previewError}
          </p>
        ) : null}
      </form>
      {preview ? (
        <AutonomyConfirm
          agentId={agent.id}
          preview={preview}
          onCancel={() => setPreview(null)}
          onConfirm={async (reason) => {
            const levelsSet = Object.fromEntries(edited);
            await onChange(
              agent.id,
              { autonomy: levelsSet, reason },
              `Saved autonomy of ${agent.id}: ${edited.map(([a, l]) => `${a} → L${l}`).join(', ')}.`,
            );
          }}
        />
      ) : null}
      {stats ? (
        <>
          <h3>Last 30 days</h3>
          <dl className="facts compact">
            <div>
              <dt>proposals</dt>
              <dd>{stats.proposals}</dd>
            </div>
            <div>
              <dt>executed</dt>
              <dd>{stats.executed}</dd>
            </div>
            <div>
              <dt>denied by policy</dt>
              <dd>{stats.denied}</dd>
            </div>
            <div>
              <dt>held out</dt>
              <dd>{stats.heldOut}</dd>
            </div>
            <div>
              <dt>precision</dt>
              <dd title="of its proposals with a verdict (run by policy, approved or rejected by a person), the share run or approved; policy denials are left out">
                {fmt.pct(stats.precision)}
              </dd>
            </div>
            <div>
              <dt>override rate</dt>
              <dd title="of approvals a human decided, the share rejected or edited">{fmt.pct(stats.overrideRate)}</dd>
            </div>
          </dl>
          {stats.uplift ? <UpliftLine u={stats.uplift} /> : <p className="muted">No holdout comparison for this agent's objective yet.</p>}
        </>
      ) : null}
    </article>
  );
}

/** What an autonomy change will change (behaviour before and after, recorded decisions that would have gone differently), a reason, and a confirmation. */
function AutonomyConfirm({
  agentId,
  preview,
  onCancel,
  onConfirm,
}: {
  agentId: string;
  preview: Preview;
  onCancel: () => void;
  onConfirm: (reason: string) => Promise<void>;
}) {
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const headingId = `autonomy-confirm-${agentId}`;
  // Focus moves to the preview once, when it opens, so a keyboard user reads what will change before confirming.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    if (!reason.trim()) {
      setReasonError('Say why you change the autonomy: the reason is kept with the change, and the ledger names it.');
      return;
    }
    setBusy(true);
    try {
      await onConfirm(reason.trim());
    } finally {
      setBusy(false);
    }
  };
  const r = preview.replay;
  const transitions = Object.entries(r.transitions);
  return (
    <div className="panel" role="region" aria-labelledby={headingId}>
      <h3 id={headingId} tabIndex={-1} ref={heading}>
        Confirm the autonomy change of {agentId}
      </h3>
      <ul>
        {Object.entries(preview.actions).map(([action, { before, after }]) => (
          <li key={action}>
            <strong>{action}</strong>: {AUTONOMY_LABELS[before.configured]} → {AUTONOMY_LABELS[after.configured]}
            <br />
            now <InForce effective={before} />
            <br />
            after <InForce effective={after} />
          </li>
        ))}
      </ul>
      <p>
        Over the last {r.days} days, {r.changed} of {r.considered} recorded decision{r.considered === 1 ? '' : 's'} for{' '}
        {Object.keys(preview.actions).join(', ')} would have been decided differently
        {transitions.length ? `: ${transitions.map(([t, n]) => `${n} ${t.replace('→', ' → ')}`).join(', ')}` : ''}.
      </p>
      <form onSubmit={confirm} noValidate>
        <label htmlFor={`${headingId}-reason`}>Reason for the change</label>
        <textarea
          id={`${headingId}-reason`}
          value={reason}
          maxLength={500}
          rows={2}
          onChange={(e) => setReason(e.target.value)}
          aria-invalid={reasonError ? true : undefined}
          aria-describedby={reasonError ? `${headingId}-reason-error` : undefined}
        />
        {reasonError ? (
          <p id={`${headingId}-reason-error`} className="note error" role="alert">
            {reasonError}
          </p>
        ) : null}
        <div className="button-row">
          <button type="submit" disabled={busy}>
            Confirm autonomy change
          </button>
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
