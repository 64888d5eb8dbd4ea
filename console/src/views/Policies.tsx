import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { ViewProps } from '../App.tsx';
import { get, post, describeError, type Answer } from '../api/client.ts';
import { CodeEditor, type CodeEditorHandle } from '../components/CodeEditor.tsx';
import { Badge, Empty, ErrorNote, fmt, Loading, StatusNote, TableScroll } from '../components/ui.tsx';
import { useLoad } from '../hooks.ts';

type Validation = Answer<'/api/v1/policies/validate', 'post'>;
type DryRun = Answer<'/api/v1/policies/dry-run', 'post'>;

/** The Cedar policy set in force, and a workbench: change it, validate, then dry-run over recorded decisions (nothing executes). */
export function Policies({ can }: ViewProps) {
  const set = useLoad(() => get('/api/v1/policies'), []);
  const mayTest = can('POST', '/policies/dry-run');
  const mayAdopt = can('POST', '/policies/adopt');
  const versions = useLoad(() => (can('GET', '/policies/versions') ? get('/api/v1/policies/versions') : Promise.resolve(null)), []);
  const [status, setStatus] = useState<string | null>(null);
  const adopted = async (message: string) => {
    setStatus(message);
    setValidation(null);
    setDryRun(null);
    await Promise.all([set.reload(), versions.reload()]);
  };
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [file, setFile] = useState<string>('');
  const [validation, setValidation] = useState<{ key: string; result: Validation } | null>(null);
  const [dryRun, setDryRun] = useState<DryRun | null>(null);
  const [days, setDays] = useState(7);
  const [busy, setBusy] = useState<'validate' | 'dry-run' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const editor = useRef<CodeEditorHandle>(null);

  useEffect(() => {
    if (!set.data) return;
    setDrafts(Object.fromEntries(set.data.files.map((f) => [f.file, f.text])));
    setFile((f) => f || set.data!.files[0]?.file || '');
  }, [set.data]);

  const files = Object.entries(drafts).map(([name, text]) => ({ file: name, text }));
  const key = JSON.stringify(files);
  const changedFiles = set.data ? set.data.files.filter((f) => drafts[f.file] !== f.text).map((f) => f.file) : [];
  const validated = validation?.key === key && validation.result.ok;
  // The lines of the open file that the last validation found a problem on (kept while the text is edited).
  const problems = validation && !validation.result.ok ? validation.result.problems : [];
  const errorLines = problems.filter((p) => p.file === file && p.line).map((p) => p.line!);

  const validate = async () => {
    setBusy('validate');
    setError(null);
    setDryRun(null);
    try {
      setValidation({ key, result: await post('/api/v1/policies/validate', { body: { files } }) });
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(null);
    }
  };

  const runDry = async () => {
    setBusy('dry-run');
    setError(null);
    try {
      setDryRun(await post('/api/v1/policies/dry-run', { body: { files, days } }));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-labelledby="policies-title">
      <h1 id="policies-title">Policies</h1>
      <StatusNote message={status} />
      <ErrorNote error={set.error} />
      {set.loading ? <Loading what="policies" /> : null}
      {set.data ? (
        <>
          <p className="muted">
            Cedar decides every proposed action: execute, wait for approval, or deny. Credits above{' '}
            {fmt.cents(set.data.creditApprovalLimitCents)} need a human.
          </p>
          <TableScroll label="Policies in force">
            <table>
              <caption>Policies in force ({set.data.policies.length})</caption>
              <thead>
                <tr>
                  <th scope="col">id</th>
                  <th scope="col">effect</th>
                  <th scope="col">outcome</th>
                  <th scope="col">reason</th>
                  <th scope="col">where</th>
                </tr>
              </thead>
              <tbody>
                {set.data.policies.map((p) => (
                  <tr key={p.id}>
                    <th scope="row">
                      <code>{p.id}</code>
                    </th>
                    <td>
                      <Badge tone={p.effect === 'forbid' ? 'bad' : 'good'}>{p.effect}</Badge>
                    </td>
                    <td>{p.outcome ?? '—'}</td>
                    <td>{p.reason}</td>
                    <td>
                      {p.file}
                      {p.line ? `:${p.line}` : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>

          {mayTest ? (
            <div className="panel" role="region" aria-labelledby="workbench-title">
              <h2 id="workbench-title">Test a change</h2>
              <p>
                Edit the policy files, validate them against the schema, then replay the last days of recorded decisions under the change.
                <strong> Shadow mode: nothing executes and the policies in force stay as they are.</strong>
              </p>
              <div className="field">
                <label htmlFor="policy-file">File</label>
                <select id="policy-file" value={file} onChange={(e) => setFile(e.target.value)}>
                  {Object.keys(drafts).map((f) => (
                    <option key={f} value={f}>
                      {f}
                      {changedFiles.includes(f) ? ' (changed)' : ''}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor="policy-text">Policy text of {file}</label>
                <CodeEditor
                  ref={editor}
                  id="policy-text"
                  rows={18}
                  value={drafts[file] ?? ''}
                  errorLines={errorLines}
                  onChange={(text) => setDrafts({ ...drafts, [file]: text })}
                />
              </div>
              <div className="button-row">
                <button type="button" onClick={validate} disabled={busy !== null}>
                  {busy === 'validate' ? 'Validating…' : 'Validate'}
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={changedFiles.length === 0}
                  onClick={() => {
                    setDrafts(Object.fromEntries(set.data!.files.map((f) => [f.file, f.text])));
                    setValidation(null);
                    setDryRun(null);
                  }}
                >
                  Discard changes
                </button>
              </div>
              {validation && (validation.key === key || !validation.result.ok) ? (
                validation.result.ok ? (
                  <div className="note good" role="status">
                    <p>
                      Valid: {validation.result.policies.length} policies
                      {changedFiles.length ? ` (changed: ${changedFiles.join(', ')})` : ' (no changes)'}.
                    </p>
                    {validation.result.warnings.length ? (
                      <ul>
                        {validation.result.warnings.map((w) => (
                          <li key={w}>Warning: {w}</li>
                        ))}
                      </ul>
                    ) : null}
                  </div>
                ) : (
                  <div className="note error" role="alert">
                    <p>The change does not validate:</p>
                    <ul>
                      {validation.result.problems.map((p, i) => (
                        <li key={i}>
                          {p.line ? (
                            <button
                              type="button"
                              className="link"
                              onClick={() => {
                                if (drafts[p.file] !== undefined) setFile(p.file);
                                // After the file's text is in the editor.
                                setTimeout(() => editor.current?.goTo(p.line!, p.column ?? 1), 0);
                              }}
                            >
                              {p.file}:{p.line}
                              {p.column ? `:${p.column}` : ''}
                            </button>
                          ) : (
                            p.file
                          )}
                          : {p.message}
                        </li>
                      ))}
                    </ul>
                  </div>
                )
              ) : null}
              <div className="inline-form">
                <label htmlFor="dry-days">Days of decisions to replay</label>
                <input id="dry-days" type="number" min={1} max={90} value={days} onChange={(e) => setDays(Number(e.target.value))} />
                <button type="button" onClick={runDry} disabled={!validated || busy !== null}>
                  {busy === 'dry-run' ? 'Replaying…' : 'Dry-run'}
                </button>
                {!validated ? <span className="muted">Validate the change first.</span> : null}
              </div>
              <ErrorNote error={error} />
              {dryRun ? <DryRunResult r={dryRun} /> : null}
              {mayAdopt && validated && changedFiles.length ? (
                <Adopt files={files} onAdopted={(v) => adopted(`Version ${v} adopted: it is in force now.`)} />
              ) : null}
            </div>
          ) : null}
          {versions.data ? (
            <Versions
              list={versions.data}
              mayRestore={mayAdopt}
              onRestored={(v, from) => adopted(`Version ${from} restored as version ${v}: it is in force now.`)}
            />
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function DryRunResult({ r }: { r: DryRun }) {
  return (
    <div className="dry-run" role="region" aria-label="Dry-run result">
      <h3>
        Dry-run: {r.changed} of {r.considered} decisions would change
      </h3>
      <p className="muted">
        Decisions from {fmt.time(r.from)} to {fmt.time(r.to)}.{r.truncated ? ' Only the newest changes are listed.' : ''}
      </p>
      <Impact r={r} />
      {Object.keys(r.transitions).length ? (
        <ul>
          {Object.entries(r.transitions).map(([t, n]) => (
            <li key={t}>
              {t}: {n}
            </li>
          ))}
        </ul>
      ) : null}
      {r.changes.length === 0 ? (
        <Empty>No recorded decision would come out differently.</Empty>
      ) : (
        <TableScroll label="Decisions that would change">
          <table>
            <caption className="sr-only">Decisions that would change</caption>
            <thead>
              <tr>
                <th scope="col">decided</th>
                <th scope="col">agent · action</th>
                <th scope="col">subject</th>
                <th scope="col">now</th>
                <th scope="col">under the change</th>
              </tr>
            </thead>
            <tbody>
              {r.changes.map((c) => (
                <tr key={c.decisionId}>
                  <td>{fmt.time(c.decidedAt)}</td>
                  <td>
                    {c.agentId} · {c.action}
                  </td>
                  <td>{c.accountId ? <a href={`#/customers/${c.accountId}`}>{c.accountId}</a> : c.leadId}</td>
                  <td>
                    {c.before.outcome} <span className="muted">{c.before.policyIds.join(', ')}</span>
                  </td>
                  <td>
                    <strong>{c.after.outcome}</strong>{' '}
                    <span className="muted">{c.after.policyIds.join(', ') || c.after.reasons.join('; ')}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </div>
  );
}

type ImpactCount = DryRun['impact']['credits']['allowed'];

/** A change of counts as people read it: "+2 ($35.00), −1 ($20.00)", or "no change". */
function delta(c: ImpactCount, money: boolean): string {
  const part = (sign: string, t: ImpactCount['added']) => `${sign}${t.count}${money ? ` (${fmt.cents(t.cents)})` : ''}`;
  const parts = [c.added.count ? part('+', c.added) : '', c.removed.count ? part('\u2212', c.removed) : ''].filter(Boolean);
  return parts.length ? parts.join(', ') : 'no change';
}

/** Money and contacts the candidate adds or removes over the replayed decisions, against the policies in force. */
function Impact({ r }: { r: DryRun }) {
  const { credits, contacts } = r.impact;
  const net = credits.allowed.added.cents - credits.allowed.removed.cents;
  const netAuto = credits.withoutHuman.added.cents - credits.withoutHuman.removed.cents;
  const signed = (c: number) => `${c < 0 ? '\u2212' : '+'}${fmt.cents(Math.abs(c))}`;
  return (
    <TableScroll label="Money and contact impact">
      <table>
        <caption>Impact against the policies in force, over the replayed decisions</caption>
        <thead>
          <tr>
            <th scope="col">what</th>
            <th scope="col">may happen (not denied)</th>
            <th scope="col">happens without a human</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th scope="row">credits</th>
            <td>
              {delta(credits.allowed, true)}
              {net ? ` · net ${signed(net)}` : ''}
            </td>
            <td>
              {delta(credits.withoutHuman, true)}
              {netAuto ? ` · net ${signed(netAuto)}` : ''}
            </td>
          </tr>
          <tr>
            <th scope="row">contacts (messages)</th>
            <td>{delta(contacts.allowed, false)}</td>
            <td>{delta(contacts.withoutHuman, false)}</td>
          </tr>
        </tbody>
      </table>
    </TableScroll>
  );
}

type VersionList = Answer<'/api/v1/policies/versions', 'get'>;

/** A reason and a confirmation, then the call; the reason is required (kept with the version, named in the ledger). */
function ReasonConfirm({
  id,
  action,
  confirmLabel,
  onConfirm,
}: {
  id: string;
  action: string;
  confirmLabel: string;
  onConfirm: (reason: string) => Promise<void>;
}) {
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!reason.trim()) {
      setProblem(`Say why you ${action}: the reason is kept with the version, and the ledger names it.`);
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      await onConfirm(reason.trim());
    } catch (err) {
      setProblem(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      <label htmlFor={`${id}-reason`}>Reason</label>
      <input
        id={`${id}-reason`}
        value={reason}
        maxLength={500}
        onChange={(e) => setReason(e.target.value)}
        aria-invalid={problem ? true : undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
      />
      {problem ? (
        <p id={`${id}-problem`} className="note error" role="alert">
          {problem}
        </p>
      ) : null}
      <div className="button-row">
        <button type="submit" disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </form>
  );
}

/** Adopting the validated change: it becomes the next version, in force at once in every server. */
function Adopt({ files, onAdopted }: { files: { file: string; text: string }[]; onAdopted: (version: number) => Promise<void> }) {
  const [open, setOpen] = useState(false);
  return (
    <div className="panel" role="region" aria-labelledby="adopt-title">
      <h3 id="adopt-title">Adopt this change</h3>
      <p>
        The change becomes the next policy version and is in force at once, on every server, without a restart. Every version stays listed
        below and can be restored.
      </p>
      {open ? (
        <ReasonConfirm
          id="adopt"
          action="adopt this change"
          confirmLabel="Confirm: adopt and put in force"
          onConfirm={async (reason) => {
            const r = await post('/api/v1/policies/adopt', { body: { files, reason } });
            await onAdopted(r.version);
          }}
        />
      ) : (
        <button type="button" onClick={() => setOpen(true)}>
          Adopt…
        </button>
      )}
    </div>
  );
}

/** The adopted versions, newest first; an admin restores an older one (a rollback is a new version naming it). */
function Versions({
  list,
  mayRestore,
  onRestored,
}: {
  list: VersionList;
  mayRestore: boolean;
  onRestored: (version: number, from: number) => Promise<void>;
}) {
  const [restoring, setRestoring] = useState<number | null>(null);
  return (
    <div className="panel" role="region" aria-labelledby="versions-title">
      <h2 id="versions-title">Policy versions</h2>
      {list.data.length === 0 ? (
        <Empty>No version adopted yet: the policy files the server started from are in force.</Empty>
      ) : (
        <TableScroll label="Policy versions, newest first">
          <table>
            <caption className="sr-only">Policy versions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">version</th>
                <th scope="col">adopted</th>
                <th scope="col">by</th>
                <th scope="col">reason</th>
                <th scope="col">state</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((v) => (
                <tr key={v.version}>
                  <th scope="row">{v.version}</th>
                  <td>{fmt.time(v.adoptedAt)}</td>
                  <td>{v.adoptedBy}</td>
                  <td>
                    {v.reason}
                    {v.restores ? <span className="muted"> (restores version {v.restores})</span> : null}
                  </td>
                  <td>
                    {v.version === list.inForce ? (
                      <Badge tone="good">in force</Badge>
                    ) : mayRestore ? (
                      <button type="button" className="secondary" onClick={() => setRestoring(v.version)}>
                        Restore version {v.version}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {restoring !== null ? (
        <div role="region" aria-label={`Restore version ${restoring}`}>
          <p>Restoring puts version {restoring}&rsquo;s files in force again, as a new version, on every server.</p>
          <ReasonConfirm
            id="restore"
            action={`restore version ${restoring}`}
            confirmLabel={`Confirm: restore version ${restoring}`}
            onConfirm={async (reason) => {
              const r = await post('/api/v1/policies/versions/{version}/restore', {
                params: { path: { version: String(restoring) } },
                body: { reason },
              });
              setRestoring(null);
              await onRestored(r.version, restoring);
            }}
          />
        </div>
      ) : null}
    </div>
  );
}
