import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { ViewProps } from '../App.tsx';
import { describeError, get, post, type Schemas } from '../api/client.ts';
import { Badge, Empty, ErrorNote, fmt, Loading, StatusNote, TableScroll } from '../components/ui.tsx';
import { navigate, useLoad } from '../hooks.ts';

type Task = Schemas['Task'];
type Message = Schemas['Message'];
type Credit = Schemas['Credit'];
type Play = Schemas['Play'];
type Origin = Schemas['WorkOrigin'];

const TABS = [
  { id: 'tasks', label: 'Tasks', statuses: ['open', 'done', 'cancelled'] },
  { id: 'messages', label: 'Messages', statuses: ['queued', 'sent', 'failed', 'cancelled'] },
  { id: 'credits', label: 'Credits', statuses: ['applied', 'reversed'] },
  { id: 'plays', label: 'Plays', statuses: ['running', 'waiting', 'done', 'refused', 'gave_up'] },
] as const;
type TabId = (typeof TABS)[number]['id'];

const PAGE = 50;

const tone = (status: string) =>
  ['done', 'sent', 'applied'].includes(status)
    ? 'good'
    : ['failed', 'gave_up', 'refused', 'reversed', 'cancelled'].includes(status)
      ? 'bad'
      : ['open', 'queued', 'waiting'].includes(status)
        ? 'warn'
        : 'plain';

/**
 * The agents' work: tasks to assign and complete, messages with their body and delivery, credits, and plays (admins
 * retry or cancel them). The route is `#/work/<tab>[/<customer id>]`, so the Customer 360 can link to one customer's.
 */
export function Work({ can, rest }: ViewProps) {
  const [tabPart = 'tasks', customerPart = ''] = rest.split('/');
  const tab: TabId = TABS.some((t) => t.id === tabPart) ? (tabPart as TabId) : 'tasks';
  const def = TABS.find((t) => t.id === tab)!;
  const [customer, setCustomer] = useState(customerPart);
  const [status, setStatus] = useState('');
  const [assignee, setAssignee] = useState('');
  const [applied, setApplied] = useState({ customer: customerPart, assignee: '' });
  const [message, setMessage] = useState<string | null>(null);

  // Another tab or customer in the address: its filters start afresh.
  useEffect(() => {
    setCustomer(customerPart);
    setApplied({ customer: customerPart, assignee: '' });
    setStatus('');
    setAssignee('');
  }, [tab, customerPart]);

  const filter = (e: FormEvent) => {
    e.preventDefault();
    setApplied({ customer: customer.trim(), assignee: assignee.trim() });
  };

  return (
    <section aria-labelledby="work-title">
      <div className="title-row">
        <h1 id="work-title">Work</h1>
      </div>
      <nav aria-label="Work items" className="tabs">
        <ul>
          {TABS.map((t) => (
            <li key={t.id}>
              <a
                href={`#/work/${t.id}${applied.customer ? `/${encodeURIComponent(applied.customer)}` : ''}`}
                aria-current={t.id === tab ? 'page' : undefined}
              >
                {t.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <form className="filters" onSubmit={filter} aria-label={`Filter ${def.label.toLowerCase()}`}>
        <div className="field inline">
          <label htmlFor="work-customer">Customer id</label>
          <input id="work-customer" value={customer} maxLength={100} onChange={(e) => setCustomer(e.target.value)} placeholder="any" />
        </div>
        <div className="field inline">
          <label htmlFor="work-status">Status</label>
          <select id="work-status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">any</option>
            {def.statuses.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        {tab === 'tasks' ? (
          <div className="field inline">
            <label htmlFor="work-assignee">Assignee</label>
            <input id="work-assignee" value={assignee} maxLength={200} onChange={(e) => setAssignee(e.target.value)} placeholder="anyone" />
          </div>
        ) : null}
        <button type="submit">Filter</button>
        {applied.customer ? (
          <button type="button" className="secondary" onClick={() => navigate(`/work/${tab}`)}>
            All customers
          </button>
        ) : null}
      </form>
      <StatusNote message={message} />
      <WorkList
        key={`${tab}|${applied.customer}|${applied.assignee}|${status}`}
        tab={tab}
        customerId={applied.customer || undefined}
        assignee={applied.assignee || undefined}
        status={status || undefined}
        can={can}
        onMessage={setMessage}
      />
    </section>
  );
}

type Filters = { customerId?: string; status?: string; assignee?: string };
type Item = Task | Message | Credit | Play;

async function fetchPage(tab: TabId, f: Filters, cursor: string | undefined): Promise<{ data: Item[]; nextCursor: string | null }> {
  const base = { limit: PAGE, ...(cursor ? { cursor } : {}), ...(f.customerId ? { customerId: f.customerId } : {}) };
  if (tab === 'tasks')
    return get('/api/v1/tasks', {
      params: {
        query: { ...base, ...(f.status ? { status: f.status as Task['status'] } : {}), ...(f.assignee ? { assignee: f.assignee } : {}) },
      },
    });
  if (tab === 'messages')
    return get('/api/v1/messages', { params: { query: { ...base, ...(f.status ? { status: f.status as Message['status'] } : {}) } } });
  if (tab === 'credits')
    return get('/api/v1/credits', { params: { query: { ...base, ...(f.status ? { status: f.status as Credit['status'] } : {}) } } });
  return get('/api/v1/plays', { params: { query: { ...base, ...(f.status ? { status: f.status as Play['status'] } : {}) } } });
}

function WorkList({ tab, can, onMessage, ...filters }: Filters & { tab: TabId; can: ViewProps['can']; onMessage: (m: string) => void }) {
  // The first page refreshes itself; "Show more" appends the pages after it.
  const first = useLoad(() => fetchPage(tab, filters, undefined), [], 10_000);
  const [more, setMore] = useState<Item[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [moreError, setMoreError] = useState<string | null>(null);
  const next = cursor === undefined ? (first.data?.nextCursor ?? null) : cursor;
  const items = [...(first.data?.data ?? []), ...more];
  const label = TABS.find((t) => t.id === tab)!.label.toLowerCase();

  const loadMore = async () => {
    if (!next) return;
    try {
      const page = await fetchPage(tab, filters, next);
      setMore((m) => [...m, ...page.data]);
      setCursor(page.nextCursor);
    } catch (err) {
      setMoreError(describeError(err));
    }
  };
  const done = async (msg: string) => {
    onMessage(msg);
    setMore([]);
    setCursor(undefined);
    await first.reload();
  };

  if (first.loading && !first.data) return <Loading what={label} />;
  return (
    <>
      <ErrorNote error={first.error} />
      {first.data && items.length === 0 ? <Empty>No {label} match.</Empty> : null}
      {items.length ? (
        tab === 'tasks' ? (
          <TaskTable tasks={items as Task[]} mayWork={can('POST', '/tasks/{id}/complete')} onDone={done} />
        ) : tab === 'messages' ? (
          <MessageTable messages={items as Message[]} />
        ) : tab === 'credits' ? (
          <CreditTable credits={items as Credit[]} />
        ) : (
          <PlayTable plays={items as Play[]} mayControl={can('POST', '/plays/{id}/retry')} onDone={done} />
        )
      ) : null}
      <ErrorNote error={moreError} />
      {next ? (
        <button type="button" className="secondary" onClick={() => void loadMore()}>
          Show more
        </button>
      ) : null}
    </>
  );
}

const CustomerLink = ({ item }: { item: { accountId: string | null; customerId: string | null } }) =>
  item.accountId ? <a href={`#/customers/${encodeURIComponent(item.accountId)}`}>{item.customerId ?? item.accountId}</a> : <>—</>;

/** What produced an item: the agent and action, and the execution key its ledger entry is filed under. */
const OriginText = ({ origin }: { origin: Origin }) =>
  origin.executionKey ? (
    <span>
      {origin.agentId ?? 'unknown agent'} · {origin.action ?? '?'}{' '}
      <a href={`#/ledger/${encodeURIComponent(origin.executionKey)}`} className="muted">
        <code>{origin.executionKey}</code>
      </a>
    </span>
  ) : (
    <>—</>
  );

function Table({ caption, head, children }: { caption: string; head: string[]; children: ReactNode }) {
  return (
    <TableScroll label={caption}>
      <table>
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </TableScroll>
  );
}

function TaskTable({ tasks, mayWork, onDone }: { tasks: Task[]; mayWork: boolean; onDone: (m: string) => Promise<void> }) {
  const [working, setWorking] = useState<{ id: string; what: 'assign' | 'complete' } | null>(null);
  const current = tasks.find((t) => t.id === working?.id) ?? null;
  return (
    <>
      <Table
        caption="Tasks, newest first"
        head={['task', 'customer', 'status', 'assignee', 'due', 'made by', ...(mayWork ? ['actions'] : [])]}
      >
        {tasks.map((t) => (
          <tr key={t.id}>
            <td>
              <strong>{t.title}</strong>
              {t.details ? <div className="muted">{t.details}</div> : null}
              <div className="muted">
                <code>{t.id}</code>
              </div>
            </td>
            <td>
              <CustomerLink item={t} />
            </td>
            <td>
              <Badge tone={tone(t.status)}>{t.status}</Badge>
            </td>
            <td>{t.assignee ?? '—'}</td>
            <td>{fmt.time(t.dueAt)}</td>
            <td>
              <OriginText origin={t.origin} />
            </td>
            {mayWork ? (
              <td>
                {t.status === 'open' ? (
                  <div className="button-row">
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Assign ${t.title}`}
                      onClick={() => setWorking({ id: t.id, what: 'assign' })}
                    >
                      Assign
                    </button>
                    <button type="button" aria-label={`Complete ${t.title}`} onClick={() => setWorking({ id: t.id, what: 'complete' })}>
                      Complete
                    </button>
                  </div>
                ) : null}
              </td>
            ) : null}
          </tr>
        ))}
      </Table>
      {current && working ? (
        <TaskForm
          key={`${current.id}-${working.what}`}
          task={current}
          what={working.what}
          onCancel={() => setWorking(null)}
          onDone={async (m) => {
            setWorking(null);
            await onDone(m);
          }}
        />
      ) : null}
    </>
  );
}

/** Assign (who) or complete (an optional note), asked in a panel that takes focus; Escape or Cancel closes it. */
function TaskForm({
  task,
  what,
  onCancel,
  onDone,
}: {
  task: Task;
  what: 'assign' | 'complete';
  onCancel: () => void;
  onDone: (m: string) => Promise<void>;
}) {
  const [value, setValue] = useState(what === 'assign' ? (task.assignee ?? '') : '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  // The button that opened the panel gets focus back when it closes without acting.
  const opener = useRef(document.activeElement as HTMLElement | null);
  useEffect(() => input.current?.focus(), []);
  const close = () => {
    onCancel();
    opener.current?.focus();
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (what === 'assign' && !value.trim()) return setError('Name who the task goes to.');
    setBusy(true);
    setError(null);
    try {
      if (what === 'assign') {
        const t = await post('/api/v1/tasks/{id}/assign', { params: { path: { id: task.id } }, body: { assignee: value.trim() } });
        await onDone(`Assigned “${t.title}” to ${t.assignee}.`);
      } else {
        const body = value.trim() ? { note: value.trim() } : {};
        const t = await post('/api/v1/tasks/{id}/complete', { params: { path: { id: task.id } }, body });
        await onDone(`Completed “${t.title}”.`);
      }
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  const id = `task-${what}-${task.id}`;
  return (
    <form
      className="panel"
      onSubmit={submit}
      aria-labelledby={`${id}-title`}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !busy) close();
      }}
      noValidate
    >
      <h2 id={`${id}-title`}>
        {what === 'assign' ? 'Assign' : 'Complete'} “{task.title}”
      </h2>
      <div className="field">
        <label htmlFor={id}>{what === 'assign' ? 'Assignee' : 'Note (optional, kept in the ledger)'}</label>
        <input
          id={id}
          ref={input}
          value={value}
          maxLength={what === 'assign' ? 200 : 2000}
          onChange={(e) => setValue(e.target.value)}
          aria-invalid={error ? true : undefined}
        />
      </div>
      <ErrorNote error={error} />
      <div className="button-row">
        <button type="submit" disabled={busy}>
          {what === 'assign' ? 'Assign' : 'Mark done'}
        </button>
        <button type="button" className="secondary" onClick={close} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function MessageTable({ messages }: { messages: Message[] }) {
  return (
    <Table caption="Messages, newest first" head={['message', 'customer', 'to', 'delivery', 'made by']}>
      {messages.map((m) => (
        <tr key={m.id}>
          <td>
            <div>
              <strong>{m.template}</strong>{' '}
              <span className="muted">
                {m.channel} · {m.purpose}
              </span>
            </div>
            {m.body ? <p className="message-body">{m.body}</p> : <div className="muted">template only, no body</div>}
          </td>
          <td>
            <CustomerLink item={m} />
          </td>
          <td>{m.contactPoint ?? '—'}</td>
          <td>
            <Badge tone={tone(m.status)}>{m.status}</Badge>
            <div className="muted">{m.sentAt ? `${fmt.time(m.sentAt)} via ${m.transport ?? '?'}` : `queued ${fmt.time(m.createdAt)}`}</div>
          </td>
          <td>
            <OriginText origin={m.origin} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

function CreditTable({ credits }: { credits: Credit[] }) {
  return (
    <Table caption="Credits, newest first" head={['amount', 'customer', 'reason', 'status', 'applied', 'made by']}>
      {credits.map((c) => (
        <tr key={c.id}>
          <td>
            {fmt.cents(c.amountCents)} {c.currency !== 'USD' ? c.currency : ''}
          </td>
          <td>
            <CustomerLink item={c} />
          </td>
          <td>{c.reason ?? '—'}</td>
          <td>
            <Badge tone={tone(c.status)}>{c.status}</Badge>
            {c.reversedAt ? <div className="muted">{fmt.time(c.reversedAt)}</div> : null}
          </td>
          <td>{fmt.time(c.createdAt)}</td>
          <td>
            <OriginText origin={c.origin} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

/** Retry makes sense for a failed play (backing off, or gave up at its first step); cancel for one still under way. */
const mayRetry = (p: Play) => (p.status === 'running' && p.attempts > 0) || (p.status === 'gave_up' && p.completed.length === 0);
const mayCancel = (p: Play) => p.status === 'running' || p.status === 'waiting';

function PlayTable({ plays, mayControl, onDone }: { plays: Play[]; mayControl: boolean; onDone: (m: string) => Promise<void> }) {
  const [asking, setAsking] = useState<{ id: string; what: 'retry' | 'cancel' } | null>(null);
  const current = plays.find((p) => p.id === asking?.id) ?? null;
  return (
    <>
      <Table caption="Plays, newest first" head={['play', 'customer', 'step', 'status', 'last error', ...(mayControl ? ['actions'] : [])]}>
        {plays.map((p) => (
          <tr key={p.id}>
            <td>
              <strong>{p.kind}</strong>
              <div className="muted">
                <code>{p.id}</code>
                {p.agentId ? ` · ${p.agentId}` : ''}
              </div>
            </td>
            <td>
              <CustomerLink item={p} />
            </td>
            <td>
              {p.step}
              {p.completed.length ? <div className="muted">done: {p.completed.join(', ')}</div> : null}
            </td>
            <td>
              <Badge tone={tone(p.status)}>{p.status}</Badge>
              {p.cancelled ? <div className="muted">cancelled by {p.cancelled.by}</div> : null}
              {p.attempts ? <div className="muted">{p.attempts} failed attempts</div> : null}
            </td>
            <td>{p.lastError ?? '—'}</td>
            {mayControl ? (
              <td>
                <div className="button-row">
                  {mayRetry(p) ? (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Retry play ${p.id}`}
                      onClick={() => setAsking({ id: p.id, what: 'retry' })}
                    >
                      Retry
                    </button>
                  ) : null}
                  {mayCancel(p) ? (
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Cancel play ${p.id}`}
                      onClick={() => setAsking({ id: p.id, what: 'cancel' })}
                    >
                      Cancel
                    </button>
                  ) : null}
                </div>
              </td>
            ) : null}
          </tr>
        ))}
      </Table>
      {current && asking ? (
        <PlayConfirm
          key={`${current.id}-${asking.what}`}
          play={current}
          what={asking.what}
          onClose={() => setAsking(null)}
          onDone={async (m) => {
            setAsking(null);
            await onDone(m);
          }}
        />
      ) : null}
    </>
  );
}

function PlayConfirm({
  play,
  what,
  onClose,
  onDone,
}: {
  play: Play;
  what: 'retry' | 'cancel';
  onClose: () => void;
  onDone: (m: string) => Promise<void>;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const opener = useRef(document.activeElement as HTMLElement | null);
  useEffect(() => box.current?.querySelector<HTMLElement>('input, button')?.focus(), []);
  const close = () => {
    onClose();
    opener.current?.focus();
  };

  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (what === 'retry') {
        const p = await post('/api/v1/plays/{id}/retry', { params: { path: { id: play.id } } });
        await onDone(`Play ${p.id} runs its step ${p.step} again.`);
      } else {
        const body = reason.trim() ? { reason: reason.trim() } : {};
        const p = await post('/api/v1/plays/{id}/cancel', { params: { path: { id: play.id } }, body });
        await onDone(`Play ${p.id} is cancelled.`);
      }
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  const id = `play-${what}-${play.id}`;
  return (
    <form
      className="panel"
      onSubmit={confirm}
      aria-labelledby={`${id}-ask`}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !busy) close();
      }}
    >
      <div ref={box}>
        <p id={`${id}-ask`}>
          {what === 'retry' ? (
            <>
              Retry the {play.kind} play <code>{play.id}</code> at step <strong>{play.step}</strong> now, with a fresh count of attempts?
            </>
          ) : (
            <>
              Cancel the {play.kind} play <code>{play.id}</code> before its step <strong>{play.step}</strong>?{' '}
              {play.completed.length ? `What it did (${play.completed.join(', ')}) stays done.` : 'It has done nothing yet.'}
            </>
          )}
        </p>
        {what === 'cancel' ? (
          <div className="field">
            <label htmlFor={`${id}-reason`}>Reason (optional, kept in the ledger)</label>
            <input id={`${id}-reason`} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
        ) : null}
        <ErrorNote error={error} />
        <div className="button-row">
          <button type="submit" className={what === 'cancel' ? 'danger' : undefined} disabled={busy}>
            {what === 'retry' ? 'Confirm retry' : 'Confirm cancellation'}
          </button>
          <button type="button" className="secondary" onClick={close} disabled={busy}>
            Keep as is
          </button>
        </div>
      </div>
    </form>
  );
}
