import {
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type FormEvent,
  type KeyboardEvent as ReactKeyboardEvent,
  type RefObject,
} from 'react';
import { WorldContext, type ViewProps } from '../App.tsx';
import { ApiError, get, post, describeError, type Answer, type BodyOf } from '../api/client.ts';
import {
  Badge,
  ChurnScoreText,
  Empty,
  ErrorNote,
  Facts,
  fmt,
  Loading,
  StatusNote,
  AUTONOMY_LABELS,
  TableScroll,
} from '../components/ui.tsx';
import { useLoad } from '../hooks.ts';

type Approval = Answer<'/api/v1/approvals', 'get'>['data'][number];
// TODO(contract): getApprovals describes proposal.ev as an open object; this is the part of it the queue shows.
interface Term {
  value: number;
  source: string;
  detail: string;
  model?: { id: string; version: string };
}
interface ExpectedValue {
  pSuccess: Term;
  impact: Term;
  cost: Term;
  riskPenalty: Term;
  value: number;
}
const evOf = (a: Approval) => a.proposal.ev as unknown as ExpectedValue;
type RejectionCategory = NonNullable<BodyOf<'/api/v1/approvals/{id}/reject', 'post'>['category']>;

/** Why a reviewer rejects, as the API counts it (per agent, in its track record); every category has a label. */
const REJECTION_LABELS: Record<RejectionCategory, string> = {
  not_needed: 'Not needed',
  wrong_action: 'Wrong action',
  wrong_offer: 'Wrong offer',
  wrong_channel: 'Wrong channel',
  bad_timing: 'Bad timing',
  wrong_data: 'Wrong data',
  other: 'Other',
};

const kindOf = (a: Approval) => `${a.proposal.agentId} · ${a.proposal.action}`;
const who = (a: Approval) => a.customer.customerId ?? a.customer.leadId ?? a.customer.accountId;
/** The most ids the API approves in one bulk request. */
const BULK_LIMIT = 100;
/** How long an approval by `a` waits before it is sent, so `u` can take it back. */
const UNDO_MS = 5000;

/** Shortcuts act only when the reviewer is not typing or working a control of their own. */
function shortcutTarget(e: KeyboardEvent): boolean {
  const el = e.target as HTMLElement | null;
  if (!el || e.ctrlKey || e.metaKey || e.altKey || e.repeat) return false;
  if (el.closest('form, input, textarea, select, [contenteditable="true"]')) return false;
  // On a button, only the queue's own items take shortcuts: elsewhere Enter and Space belong to the button.
  return el.tagName !== 'BUTTON' || el.classList.contains('queue-item');
}

type Tab = 'pending' | 'decided' | 'expired';
type Sort = 'ev' | 'expiry' | 'newest';
/** What the reviewer looks at: the tab, the filters, the order and the selected item. Kept for the browser tab's session. */
interface QueuePlace {
  tab: Tab;
  agent: string;
  action: string;
  risk: string;
  within: string;
  sort: Sort;
  selectedId: string | null;
}
const PLACE_KEY = 'acs.queue.place';
const TABS: [Tab, string][] = [
  ['pending', 'Pending'],
  ['decided', 'Decided'],
  ['expired', 'Expired'],
];
const SORTS: [Sort, string][] = [
  ['ev', 'Expected value, then expiry'],
  ['expiry', 'Soonest to expire'],
  ['newest', 'Newest first'],
];
const SORT_TEXT: Record<Sort, string> = {
  ev: 'highest expected value first, then soonest to expire',
  expiry: 'soonest to expire first',
  newest: 'newest first',
};
const WITHIN: [string, string][] = [
  ['', 'Any time'],
  ['1', 'Within 1 hour'],
  ['4', 'Within 4 hours'],
  ['24', 'Within 24 hours'],
  ['72', 'Within 3 days'],
];
const RISKS = ['low', 'medium', 'high'];
const DEFAULT_PLACE: QueuePlace = { tab: 'pending', agent: '', action: '', risk: '', within: '', sort: 'ev', selectedId: null };

/** The place saved by this browser tab (a visit to the Customer 360 and back keeps it); anything unreadable is dropped. */
function loadPlace(): QueuePlace {
  try {
    const saved = JSON.parse(sessionStorage.getItem(PLACE_KEY) ?? 'null') as Partial<QueuePlace> | null;
    if (!saved || typeof saved !== 'object') return DEFAULT_PLACE;
    const text = (v: unknown) => (typeof v === 'string' ? v : '');
    return {
      tab: TABS.some(([t]) => t === saved.tab) ? saved.tab! : 'pending',
      agent: text(saved.agent),
      action: text(saved.action),
      risk: RISKS.includes(text(saved.risk)) ? text(saved.risk) : '',
      within: WITHIN.some(([w]) => w === saved.within) ? text(saved.within) : '',
      sort: SORTS.some(([x]) => x === saved.sort) ? saved.sort! : 'ev',
      selectedId: typeof saved.selectedId === 'string' ? saved.selectedId : null,
    };
  } catch {
    return DEFAULT_PLACE;
  }
}

/** A narrow screen shows the list and the card one above the other: opening an item must bring its card into view. */
const stacked = () => window.matchMedia('(max-width: 1000px)').matches;

/** The approval queue: tabs for pending, decided and expired items, filters and sort choices, with the explanation and the customer. */
export function Queue({ can }: ViewProps) {
  const mayDecideAny = can('POST', '/approvals/{id}/approve');
  const clock = useContext(WorldContext);
  const [place, setPlace] = useState<QueuePlace>(loadPlace);
  const { tab, agent, action, risk, within, sort } = place;
  const selectedId = place.selectedId;
  const setSelectedId = (id: string | null) => setPlace((p) => (p.selectedId === id ? p : { ...p, selectedId: id }));
  useEffect(() => sessionStorage.setItem(PLACE_KEY, JSON.stringify(place)), [place]);
  // Only pending items can be decided.
  const mayDecide = mayDecideAny && tab === 'pending';
  const mayBulk = can('POST', '/approvals/bulk-approve') && tab === 'pending';
  const agents = useLoad(async () => (can('GET', '/agents') ? (await get('/api/v1/agents')).data : []), []);
  const queue = useLoad(
    async () => {
      const query = {
        limit: 200,
        status: tab,
        sort,
        ...(agent ? { agent } : {}),
        ...(action ? { action } : {}),
        ...(risk ? { risk: risk as 'low' | 'medium' | 'high' } : {}),
        ...(within ? { expiresWithinHours: Number(within) } : {}),
      };
      const page = await get('/api/v1/approvals', { params: { query } });
      return { items: page.data, more: page.nextCursor !== null };
    },
    [tab, agent, action, risk, within, sort],
    10_000,
  );
  const items = useMemo(() => queue.data?.items ?? [], [queue.data]);
  const [checked, setChecked] = useState<Set<string>>(new Set());
  const [status, setStatus] = useState<string | null>(null);
  const [showHelp, setShowHelp] = useState(false);
  const rejectRef = useRef<HTMLTextAreaElement>(null);
  const [editing, setEditing] = useState(false);
  const busy = useRef(false);
  // Where the selection stood in the list, so it can move to a neighbour when its item leaves.
  const lastIndex = useRef(0);
  const current = items.find((a) => a.id === selectedId) ?? null;

  // The selection is always explicit: a refresh that brings in higher-EV items never swaps what the reviewer reads.
  // When the selected item leaves (decided, expired), the one that took its place in the list is selected.
  // While a list loads there is nothing to select from: the place restored from the session waits for it.
  useEffect(() => {
    if (!queue.data) return;
    if (items.length === 0) return setSelectedId(null);
    const i = items.findIndex((a) => a.id === selectedId);
    if (i >= 0) {
      lastIndex.current = i;
      return;
    }
    setSelectedId(items[Math.min(lastIndex.current, items.length - 1)]!.id);
  }, [items, selectedId, queue.data]);
  useEffect(() => setEditing(false), [current?.id]);
  // A place restored from this tab's session (back from the Customer 360): show the item it left off at.
  const restored = useRef(false);
  useEffect(() => {
    if (restored.current || !current) return;
    restored.current = true;
    document.getElementById(`item-${current.id}`)?.scrollIntoView({ block: 'nearest' });
  }, [current]);
  /** Opens an item: on a narrow screen its card is below the list, so the card is brought into view and focused. */
  const openItem = (id: string) => {
    setSelectedId(id);
    if (!stacked()) return;
    requestAnimationFrame(() => {
      const heading = document.getElementById(`detail-${id}`);
      heading?.scrollIntoView({ block: 'start' });
      heading?.focus({ preventScroll: true });
    });
  };
  const setFilter = (change: Partial<QueuePlace>) => {
    restored.current = false;
    lastIndex.current = 0;
    setPlace((p) => ({ ...p, ...change, selectedId: null }));
  };
  const filtered = Boolean(agent || action || risk || within);
  const agentIds = [...new Set([...(agents.data ?? []).map((x) => x.id), ...(agent ? [agent] : [])])].sort();
  const actionNames = [
    ...new Set([
      ...(agents.data ?? []).filter((x) => !agent || x.id === agent).flatMap((x) => Object.keys(x.actions)),
      ...(action ? [action] : []),
    ]),
  ].sort();
  // Drop checks for items that left the queue (decided elsewhere or expired).
  useEffect(() => setChecked((prev) => new Set([...prev].filter((id) => items.some((a) => a.id === id)))), [items]);

  const checkedItems = items.filter((a) => checked.has(a.id));
  const bulkKinds = new Set(checkedItems.map(kindOf));
  const bulkOk =
    checkedItems.length > 0 &&
    checkedItems.length <= BULK_LIMIT &&
    bulkKinds.size === 1 &&
    checkedItems.every((a) => a.proposal.risk === 'low');

  /** After a decision: say what happened, select the decided item's neighbour, reload, and keep the keyboard on the list. */
  const after = async (message: string, decidedId?: string) => {
    setStatus(message);
    const i = items.findIndex((a) => a.id === decidedId);
    const next = i >= 0 ? (items[i + 1] ?? items[i - 1] ?? null) : null;
    if (next) setSelectedId(next.id);
    await queue.reload();
    if (next) requestAnimationFrame(() => document.getElementById(`item-${next.id}`)?.focus());
  };

  const move = (step: number) => {
    if (!items.length) return;
    const i = Math.max(
      0,
      items.findIndex((a) => a.id === current?.id),
    );
    const next = items[Math.min(items.length - 1, Math.max(0, i + step))]!;
    setSelectedId(next.id);
    document.getElementById(`item-${next.id}`)?.focus();
  };

  const approve = async (a: Approval, params?: Record<string, unknown>, opts: { keepSelection?: boolean } = {}) => {
    if (busy.current) return;
    busy.current = true;
    try {
      const r = await post('/api/v1/approvals/{id}/approve', { params: { path: { id: a.id } }, body: params ? { params } : {} });
      // A message whose consent was withdrawn while it waited is refused when approved: say why.
      const message = `Approved ${a.proposal.action} for ${who(a)}: ${r.execution.status}${r.execution.status === 'refused' && r.execution.result.reason ? ` (${r.execution.result.reason})` : ''}.`;
      if (opts.keepSelection) {
        setStatus(message);
        await queue.reload();
      } else await after(message, a.id);
    } catch (err) {
      setStatus(`Could not approve: ${describeError(err)}`);
      await queue.reload();
    } finally {
      busy.current = false;
    }
  };

  // `a` approves after an undo window: the reviewer moves on at once, and `u` (or the Undo button) takes it back.
  const [queued, setQueued] = useState<Approval | null>(null);
  const queuedTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const queuedRef = useRef<Approval | null>(null);
  const sendQueued = () => {
    const a = queuedRef.current;
    if (queuedTimer.current) clearTimeout(queuedTimer.current);
    queuedTimer.current = null;
    queuedRef.current = null;
    setQueued(null);
    if (a) void approve(a, undefined, { keepSelection: true });
  };
  const approveAfterUndoWindow = (a: Approval) => {
    if (queuedRef.current) sendQueued();
    queuedRef.current = a;
    setQueued(a);
    queuedTimer.current = setTimeout(sendQueued, UNDO_MS);
    setStatus(null);
    const i = items.findIndex((x) => x.id === a.id);
    const next = items[i + 1] ?? items[i - 1];
    if (next) {
      setSelectedId(next.id);
      requestAnimationFrame(() => document.getElementById(`item-${next.id}`)?.focus());
    }
  };
  const undoQueued = () => {
    const a = queuedRef.current;
    if (!a) return;
    if (queuedTimer.current) clearTimeout(queuedTimer.current);
    queuedTimer.current = null;
    queuedRef.current = null;
    setQueued(null);
    setStatus(`Undone: ${a.proposal.action} for ${who(a)} was not approved.`);
    setSelectedId(a.id);
    requestAnimationFrame(() => document.getElementById(`item-${a.id}`)?.focus());
  };
  // Leaving the queue within the window sends what was queued: the reviewer pressed `a` and did not undo it.
  useEffect(() => () => sendQueued(), []); // eslint-disable-line react-hooks/exhaustive-deps

  const toggle = (id: string) =>
    setChecked((prev) => {
      const next = new Set(prev);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!shortcutTarget(e)) return;
      const onItem = (e.target as HTMLElement).classList.contains('queue-item');
      if (e.key === 'j' || (onItem && e.key === 'ArrowDown')) {
        e.preventDefault();
        move(1);
      } else if (e.key === 'k' || (onItem && e.key === 'ArrowUp')) {
        e.preventDefault();
        move(-1);
      } else if (e.key === '?') setShowHelp((v) => !v);
      else if (e.key === 'u' && queuedRef.current) {
        e.preventDefault();
        undoQueued();
      } else if (!mayDecide || !current) return;
      else if (e.key === 'a') {
        e.preventDefault();
        if (queuedRef.current?.id !== current.id) approveAfterUndoWindow(current);
      } else if (e.key === 'r') {
        e.preventDefault();
        rejectRef.current?.focus();
      } else if (e.key === 'e') {
        e.preventDefault();
        setEditing(true);
      } else if (e.key === 'x' && current.proposal.risk === 'low' && mayBulk) {
        e.preventDefault();
        toggle(current.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const bulkApprove = async () => {
    const batch = checkedItems;
    try {
      const r = await post('/api/v1/approvals/bulk-approve', { body: { ids: batch.map((a) => a.id) } });
      const failed = r.results.filter((x) => !x.ok);
      const refused = r.results.filter((x) => x.ok && x.execution.status === 'refused');
      const name = (id: string) => {
        const a = batch.find((b) => b.id === id);
        return a ? `${a.proposal.action} for ${who(a)}` : id;
      };
      setChecked(new Set());
      // The approved items leave the list: the keyboard goes to the first item left, not the page body.
      requestAnimationFrame(() => (document.querySelector('.queue-item') as HTMLElement | null)?.focus());
      await after(
        `Bulk approved ${r.results.length - failed.length} of ${r.results.length}.${failed.length ? ` Failed: ${failed.map((f) => `${name(f.id)} (${f.error?.message})`).join('; ')}` : ''}` +
          `${refused.length ? ` Not sent, consent no longer in effect: ${refused.map((f) => name(f.id)).join('; ')}.` : ''}`,
      );
    } catch (err) {
      // The API names refused items by their place in the request: say which items they are.
      const issues =
        err instanceof ApiError
          ? err.issues.map((i) => {
              const a = batch[Number(i.path.replace(/^ids\./, ''))];
              return a ? `${a.proposal.action} for ${who(a)}: ${i.message}` : `${i.path}: ${i.message}`;
            })
          : [];
      setStatus(`Bulk approval refused, nothing was approved: ${issues.length ? issues.join('; ') : describeError(err)}`);
      await queue.reload();
    }
  };

  const sameKindLow = current ? items.filter((a) => kindOf(a) === kindOf(current) && a.proposal.risk === 'low').slice(0, BULK_LIMIT) : [];

  const countText = !queue.data
    ? ''
    : `${items.length}${queue.data.more ? '+' : ''} ${tab === 'expired' ? 'expired without review' : tab}${filtered ? ' (filtered)' : ''} · `;
  const onTabKey = (e: ReactKeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const i = TABS.findIndex(([t]) => t === tab);
    const next = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length]![0];
    setFilter({ tab: next });
    requestAnimationFrame(() => document.getElementById(`queue-tab-${next}`)?.focus());
  };

  return (
    <section aria-labelledby="queue-title">
      <div className="title-row">
        <h1 id="queue-title">Review queue</h1>
        <span className="muted" id="queue-count">
          {/* No count until the queue has loaded: "0 pending" while loading reads as "nothing to approve". */}
          {countText}
          {SORT_TEXT[sort]}
        </span>
        <button type="button" className="link" aria-expanded={showHelp} aria-controls="shortcuts" onClick={() => setShowHelp((v) => !v)}>
          Keyboard shortcuts
        </button>
      </div>
      <div className="queue-tabs" role="tablist" aria-label="Approvals by state" onKeyDown={onTabKey}>
        {TABS.map(([t, label]) => (
          <button
            key={t}
            type="button"
            role="tab"
            id={`queue-tab-${t}`}
            aria-selected={t === tab}
            aria-controls="queue-panel"
            tabIndex={t === tab ? 0 : -1}
            onClick={() => setFilter({ tab: t })}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="queue-filters" role="group" aria-label="Filter and sort the queue">
        <div className="field">
          <label htmlFor="queue-agent">Agent</label>
          <select id="queue-agent" value={agent} onChange={(e) => setFilter({ agent: e.target.value, action: '' })}>
            <option value="">All agents</option>
            {agentIds.map((id) => (
              <option key={id} value={id}>
                {id}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="queue-action">Action</label>
          <select id="queue-action" value={action} onChange={(e) => setFilter({ action: e.target.value })}>
            <option value="">All actions</option>
            {actionNames.map((x) => (
              <option key={x} value={x}>
                {x.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="queue-risk">Risk</label>
          <select id="queue-risk" value={risk} onChange={(e) => setFilter({ risk: e.target.value })}>
            <option value="">Any risk</option>
            {RISKS.map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="queue-within">Expires</label>
          <select id="queue-within" value={within} onChange={(e) => setFilter({ within: e.target.value })}>
            {WITHIN.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="queue-sort">Sort</label>
          <select id="queue-sort" value={sort} onChange={(e) => setFilter({ sort: e.target.value as Sort })}>
            {SORTS.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </div>
        {filtered ? (
          <button type="button" className="secondary" onClick={() => setFilter({ agent: '', action: '', risk: '', within: '' })}>
            Clear filters
          </button>
        ) : null}
      </div>
      {showHelp ? (
        <div id="shortcuts" className="panel">
          <h2>Keyboard shortcuts</h2>
          <ul className="shortcuts">
            <li>
              <kbd>j</kbd> / <kbd>↓</kbd> next item, <kbd>k</kbd> / <kbd>↑</kbd> previous
            </li>
            {mayDecide ? (
              <>
                <li>
                  <kbd>a</kbd> approve the selected item (sent after {UNDO_MS / 1000} s; <kbd>u</kbd> undoes it)
                </li>
                <li>
                  <kbd>r</kbd> write a rejection reason
                </li>
                <li>
                  <kbd>e</kbd> edit its parameters
                </li>
              </>
            ) : null}
            {mayBulk ? (
              <li>
                <kbd>x</kbd> select a low-risk item for bulk approval
              </li>
            ) : null}
            <li>
              <kbd>?</kbd> show or hide this list
            </li>
          </ul>
        </div>
      ) : null}
      <div id="queue-panel" role="tabpanel" aria-labelledby={`queue-tab-${tab}`}>
        {!mayDecideAny ? <p className="note info">Your role can read the queue but not decide it.</p> : null}
        <StatusNote message={status} />
        {queued ? (
          <div className="undobar" role="region" aria-label="Approval about to be sent">
            <span role="status">
              Approving {queued.proposal.action.replace(/_/g, ' ')} for {who(queued)} in {UNDO_MS / 1000} s…
            </span>
            <button type="button" onClick={undoQueued} aria-keyshortcuts="u">
              Undo <kbd aria-hidden="true">u</kbd>
            </button>
          </div>
        ) : null}
        <ErrorNote error={queue.error} />
        {queue.loading && !queue.data ? <Loading what="the queue" /> : null}
        {mayBulk && checkedItems.length > 0 ? (
          <div className="bulkbar" role="region" aria-label="Bulk approval">
            <span>
              {checkedItems.length} selected{bulkKinds.size === 1 ? ` (${[...bulkKinds][0]})` : ''}
            </span>
            <button type="button" onClick={bulkApprove} disabled={!bulkOk}>
              Approve {checkedItems.length} selected
            </button>
            <button type="button" className="secondary" onClick={() => setChecked(new Set())}>
              Clear selection
            </button>
            {!bulkOk ? (
              <span className="muted">Bulk approval takes up to {BULK_LIMIT} low-risk items of one kind (same agent and action).</span>
            ) : null}
          </div>
        ) : null}
        {queue.data && items.length === 0 ? (
          <Empty>
            {filtered
              ? 'Nothing here matches these filters.'
              : tab === 'pending'
                ? "Nothing waits for a decision. Agents' proposals that need a human appear here."
                : tab === 'decided'
                  ? 'Nothing has been approved or rejected yet.'
                  : 'No approval has expired without review.'}
          </Empty>
        ) : null}
        {items.length > 0 ? (
          <div className="split">
            <ol
              className="queue-list"
              aria-label={tab === 'pending' ? 'Pending approvals' : tab === 'decided' ? 'Decided approvals' : 'Expired approvals'}
            >
              {items.map((a) => (
                <li key={a.id} className={a.id === current?.id ? 'selected' : undefined}>
                  {mayBulk && a.proposal.risk === 'low' ? (
                    <input
                      type="checkbox"
                      checked={checked.has(a.id)}
                      onChange={() => toggle(a.id)}
                      aria-label={`Select ${a.proposal.action} for ${who(a)} for bulk approval`}
                    />
                  ) : (
                    <span className="checkbox-gap" aria-hidden="true" />
                  )}
                  <button
                    type="button"
                    id={`item-${a.id}`}
                    className="queue-item"
                    aria-current={a.id === current?.id ? 'true' : undefined}
                    onClick={() => openItem(a.id)}
                  >
                    <span className="item-main">
                      {a.proposal.action.replace(/_/g, ' ')} <span className="muted">for</span> {who(a)}
                    </span>
                    <span className="item-meta">
                      <span>EV {fmt.money(evOf(a).value)}</span>
                      <Badge tone={a.proposal.risk === 'low' ? 'good' : a.proposal.risk === 'medium' ? 'warn' : 'bad'}>
                        {a.proposal.risk} risk
                      </Badge>
                      {tab === 'pending' ? (
                        <span>{clock ? fmt.until(a.expiresAt, clock.now) : ''}</span>
                      ) : (
                        <Badge tone={a.status === 'approved' ? 'good' : a.status === 'rejected' ? 'bad' : 'warn'}>{a.status}</Badge>
                      )}
                    </span>
                  </button>
                </li>
              ))}
            </ol>
            {current ? (
              <ApprovalDetail
                key={current.id}
                a={current}
                mayDecide={mayDecide}
                editing={editing}
                setEditing={setEditing}
                rejectRef={rejectRef}
                onApprove={(params) => approve(current, params)}
                onRejected={(reason) => after(`Rejected ${current.proposal.action} for ${who(current)}: “${reason}”.`, current.id)}
                onError={(msg) => setStatus(msg)}
                sameKindLow={mayBulk && current.proposal.risk === 'low' ? sameKindLow.length : 0}
                onSelectKind={() => setChecked(new Set(sameKindLow.map((a) => a.id)))}
              />
            ) : null}
          </div>
        ) : null}
      </div>
    </section>
  );
}

function TermRow({ name, term, money }: { name: string; term: Term; money: boolean }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td>{money ? fmt.money(term.value) : fmt.pct(term.value)}</td>
      <td>
        {term.source === 'uplift' ? (
          'uplift from the holdout'
        ) : term.model ? (
          <>
            model <code>{term.model.id}</code> v<code>{term.model.version}</code>
          </>
        ) : (
          term.source
        )}
      </td>
      <td>{term.detail}</td>
    </tr>
  );
}

interface DetailProps {
  a: Approval;
  mayDecide: boolean;
  editing: boolean;
  setEditing: (v: boolean) => void;
  rejectRef: RefObject<HTMLTextAreaElement | null>;
  onApprove: (params?: Record<string, unknown>) => Promise<void>;
  onRejected: (reason: string) => Promise<void>;
  onError: (message: string) => void;
  sameKindLow: number;
  onSelectKind: () => void;
}

function ApprovalDetail({
  a,
  mayDecide,
  editing,
  setEditing,
  rejectRef,
  onApprove,
  onRejected,
  onError,
  sameKindLow,
  onSelectKind,
}: DetailProps) {
  const [reason, setReason] = useState('');
  const [category, setCategory] = useState<RejectionCategory>('other');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const features = useMemo(() => Object.entries(a.customer.features ?? {}).filter(([, v]) => v !== null), [a.customer.features]);

  const reject = async (e: FormEvent) => {
    e.preventDefault();
    if (!reason.trim()) {
      setReasonError('A rejection needs a reason: it is the agent’s feedback.');
      rejectRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await post('/api/v1/approvals/{id}/reject', { params: { path: { id: a.id } }, body: { reason: reason.trim(), category } });
      await onRejected(reason.trim());
    } catch (err) {
      onError(`Could not reject: ${describeError(err)}`);
    } finally {
      setBusy(false);
    }
  };

  const run = async (params?: Record<string, unknown>) => {
    setBusy(true);
    try {
      await onApprove(params);
    } finally {
      setBusy(false);
    }
  };

  const ev = evOf(a);
  return (
    <article className="detail" aria-labelledby={`detail-${a.id}`}>
      <h2 id={`detail-${a.id}`} tabIndex={-1}>
        {a.proposal.action.replace(/_/g, ' ')} for {who(a)}
      </h2>
      <p className="lead">{a.proposal.reason}</p>
      {a.status !== 'pending' ? (
        <p className="note info" role="status">
          {a.status === 'expired'
            ? `Expired without review at ${fmt.time(a.decidedAt ?? a.expiresAt)}${a.reason ? `: ${a.reason}` : ''}.`
            : `${a.status === 'approved' ? 'Approved' : 'Rejected'} by ${a.decidedBy ?? 'someone'} at ${fmt.time(a.decidedAt)}${a.reason ? `: “${a.reason}”` : ''}${a.reasonCategory ? ` (${REJECTION_LABELS[a.reasonCategory as RejectionCategory] ?? a.reasonCategory})` : ''}.`}
        </p>
      ) : null}
      {a.lastError ? (
        <p className="note error" role="status">
          The last attempt to approve failed at {fmt.time(a.lastError.at)} and ran nothing: {a.lastError.message} (
          <code>{a.lastError.code}</code>). Approve again to retry, or reject.
        </p>
      ) : null}
      <Facts
        items={[
          ['agent', a.proposal.agentId],
          ['channel / purpose', [a.proposal.channel, a.proposal.purpose].filter(Boolean).join(' / ') || null],
          ['risk', a.proposal.risk],
          ['expected value', fmt.money(ev.value)],
          // The score it was decided with: the same field the Customer 360 shows as the latest decision's.
          ['churn risk', a.proposal.churn ? <ChurnScoreText score={a.proposal.churn} /> : null],
          ['autonomy', AUTONOMY_LABELS[a.decision.autonomy] ?? `L${a.decision.autonomy}`],
          ['expires', fmt.time(a.expiresAt)],
          [
            'customer',
            a.customer.accountId ? (
              <a href={`#/customers/${a.customer.accountId}`}>{a.customer.customerId ?? a.customer.accountId} (Customer 360)</a>
            ) : (
              a.customer.leadId
            ),
          ],
        ]}
      />
      <CustomerContext a={a} />
      {a.proposal.message ? <MessageBody message={a.proposal.message} /> : null}
      <h3>Parameters</h3>
      {editing && mayDecide ? (
        <ParamEditor
          approvalId={a.id}
          params={withRecipient(a.proposal.params, a.proposal.message)}
          recipients={a.proposal.message?.recipients}
          busy={busy}
          onCancel={() => setEditing(false)}
          onSubmit={(p) => run(p)}
        />
      ) : (
        <Facts
          items={Object.entries(a.proposal.params)
            // The message's body and citations are shown above, as the customer would read them.
            .filter(([k]) => !a.proposal.message || !['body', 'citations', 'generation'].includes(k))
            .map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])}
        />
      )}
      <h3>Why: expected value = p(success) × impact − cost − risk penalty</h3>
      <TableScroll label="Expected value terms">
        <table>
          <thead>
            <tr>
              <th scope="col">term</th>
              <th scope="col">value</th>
              <th scope="col">source</th>
              <th scope="col">how</th>
            </tr>
          </thead>
          <tbody>
            <TermRow name="p(success)" term={ev.pSuccess} money={false} />
            <TermRow name="impact" term={ev.impact} money />
            <TermRow name="cost" term={ev.cost} money />
            <TermRow name="risk penalty" term={ev.riskPenalty} money />
          </tbody>
        </table>
      </TableScroll>
      <h3>Matched policies</h3>
      <ul className="policies">
        {a.decision.policyIds.map((id, i) => (
          <li key={id}>
            <code>{id}</code>: {a.decision.reasons[i] ?? ''}
          </li>
        ))}
      </ul>
      <h3>Customer features</h3>
      {features.length ? <Facts items={features.map(([k, v]) => [k, String(v)])} /> : <Empty>No features yet.</Empty>}
      {mayDecide ? (
        <div className="actions">
          {!editing ? (
            <div className="button-row decide-bar">
              <button type="button" onClick={() => run()} disabled={busy} aria-keyshortcuts="a">
                Approve <kbd aria-hidden="true">a</kbd>
              </button>
              <button type="button" className="secondary" onClick={() => setEditing(true)} disabled={busy} aria-keyshortcuts="e">
                Edit parameters <kbd aria-hidden="true">e</kbd>
              </button>
              {sameKindLow > 1 ? (
                <button type="button" className="secondary" onClick={onSelectKind}>
                  Select all {sameKindLow} low-risk of this kind
                </button>
              ) : null}
            </div>
          ) : null}
          <form onSubmit={reject} className="reject" noValidate>
            <label htmlFor={`reason-${a.id}`}>
              Reason for rejecting <span className="muted">(required; the agent learns from it)</span>
            </label>
            <textarea
              id={`reason-${a.id}`}
              ref={rejectRef}
              aria-keyshortcuts="r"
              rows={2}
              maxLength={500}
              value={reason}
              onChange={(e) => {
                setReason(e.target.value);
                setReasonError(null);
              }}
              aria-invalid={reasonError ? true : undefined}
              aria-describedby={reasonError ? `reason-error-${a.id}` : undefined}
            />
            {reasonError ? (
              <p id={`reason-error-${a.id}`} className="note error" role="alert">
                {reasonError}
              </p>
            ) : null}
            <label htmlFor={`category-${a.id}`}>What was wrong</label>
            <select id={`category-${a.id}`} value={category} onChange={(e) => setCategory(e.target.value as RejectionCategory)}>
              {Object.entries(REJECTION_LABELS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
            <button type="submit" className="danger" disabled={busy}>
              Reject
            </button>
          </form>
        </div>
      ) : null}
    </article>
  );
}

/** What decides the item besides its explanation: the customer's subscription and what was done for them lately. */
function CustomerContext({ a }: { a: Approval }) {
  const { subscription: sub, recent } = a.customer;
  if (!a.customer.accountId) return null;
  const credits = recent.credits.count
    ? `${recent.credits.count} credit${recent.credits.count === 1 ? '' : 's'}, ${fmt.cents(recent.credits.amountCents)} in all`
    : 'none';
  const messages = recent.messages.count
    ? `${recent.messages.count} message${recent.messages.count === 1 ? '' : 's'}, the last at ${fmt.time(recent.messages.lastAt)}`
    : 'none';
  return (
    <>
      <h3>Customer</h3>
      <Facts
        items={[
          ['subscription', sub ? [sub.status, sub.plan, sub.contract].filter(Boolean).join(' · ') : 'none'],
          ['monthly amount', sub?.monthlyAmount != null ? fmt.money(sub.monthlyAmount) : null],
          ['tenure', sub?.tenureMonths != null ? `${sub.tenureMonths} month${sub.tenureMonths === 1 ? '' : 's'}` : null],
          [`credits, last ${recent.days} days`, credits],
          [`messages, last ${recent.days} days`, messages],
        ]}
      />
    </>
  );
}

/** The message a proposal would send: its body as the customer gets it, why it was held, each sentence's evidence, and the passages cited. */
function MessageBody({ message: m }: { message: NonNullable<Approval['proposal']['message']> }) {
  const passages = m.citations.filter((c) => c.path);
  return (
    <>
      <h3>Message</h3>
      {m.blocked.length ? (
        <p className="note warn" role="status">
          Held for a person: {m.blocked.join('; ')}
        </p>
      ) : null}
      {m.body ? (
        <pre className="message-body" aria-label="Message body">
          {m.body}
        </pre>
      ) : (
        <Empty>{m.abstained ? 'No body: not enough support in the knowledge base.' : 'No body: the template is sent as it is.'}</Empty>
      )}
      {m.sentences.length ? (
        <>
          <h4>Evidence per sentence</h4>
          <ul className="citations evidence" aria-label="Evidence per sentence">
            {m.sentences.map((x, i) => (
              <li key={i}>
                {x.text}{' '}
                {x.markers.map((k) => (
                  <code key={k}>[{k}]</code>
                ))}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {passages.length ? (
        <>
          <h4>Cited passages</h4>
          <ul className="citations">
            {passages.map((c) => (
              <li key={c.marker}>
                <code>[{c.marker}]</code> {[c.path, ...c.headingPath].join(' › ')}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {m.citations.some((c) => c.marker === 'C') ? (
        <p className="muted">
          <code>[C]</code> cites the customer&apos;s own record.
        </p>
      ) : null}
    </>
  );
}

type EditCheck = Answer<'/api/v1/approvals/{id}/check-edit', 'post'>;
type Recipient = { to: string; consented: boolean; why: string | null };

/**
 * A message's parameters with its recipient to choose: the one chosen, else the first of the customer's points whose
 * consent is in effect ('' when none is). Other actions' parameters as they are.
 */
function withRecipient(
  params: Record<string, unknown>,
  message: { to: string | null; recipients: Recipient[] } | null | undefined,
): Record<string, unknown> {
  if (!message || 'to' in params) return params;
  return { ...params, to: message.to ?? message.recipients.find((r) => r.consented)?.to ?? '' };
}

/**
 * The recipient as a choice from the customer's contact points for the channel: those without consent in effect for
 * the message are shown, disabled, with why. The API refuses any other.
 */
function RecipientSelect({ recipients, value, onChange }: { recipients: Recipient[]; value: string; onChange: (to: string) => void }) {
  const known = recipients.some((r) => r.to === value);
  return (
    <select id="param-to" aria-describedby="edit-check recipient-note" value={value} onChange={(e) => onChange(e.target.value)}>
      {!known ? (
        <option value={value} disabled>
          {value ? `${value} (not one of the customer's contact points)` : 'no contact point with consent'}
        </option>
      ) : null}
      {recipients.map((r) => (
        <option key={r.to} value={r.to} disabled={!r.consented}>
          {r.consented ? `${r.to} (consent in effect)` : `${r.to} (not allowed: ${r.why ?? 'no consent'})`}
        </option>
      ))}
    </select>
  );
}

/** A credit's amount is edited in dollars and cents; the API takes cents. */
const DOLLARS = /^\d{1,7}(\.\d{1,2})?$/;
const isMoney = (k: string, v: unknown) => k === 'amountCents' && typeof v === 'number';

/** The edited parameters from the fields, or the first field that does not parse, named. */
function parseEdit(
  params: Record<string, unknown>,
  values: Record<string, string>,
): { params: Record<string, unknown> } | { error: string } {
  const out: Record<string, unknown> = {};
  for (const [k, original] of Object.entries(params)) {
    const text = (values[k] ?? '').trim();
    if (isMoney(k, original)) {
      if (!DOLLARS.test(text)) return { error: `amount: write dollars and cents, like 25.00` };
      out[k] = Math.round(Number(text) * 100);
    } else if (typeof original === 'string') {
      // No recipient chosen (none has consent): left to the send, which finds none and refuses.
      if (!(k === 'to' && !values[k])) out[k] = values[k] ?? '';
    } else {
      try {
        out[k] = JSON.parse(text);
      } catch {
        return { error: `${k}: not a valid ${typeof original === 'number' ? 'number' : 'JSON value'}` };
      }
    }
  }
  return { params: out };
}

/**
 * One input per parameter: a credit's amount in dollars and cents, numbers stay numbers, anything structured is
 * edited as JSON. Focus starts in the first field, and every change is checked as approving would check it (the
 * approval limit, what today's credit budget has left, policy), so the reviewer sees a refusal before approving.
 */
function ParamEditor({
  approvalId,
  params,
  recipients,
  busy,
  onSubmit,
  onCancel,
}: {
  approvalId: string;
  params: Record<string, unknown>;
  /** For a message: the customer's contact points for its channel, with their consent; `to` is chosen from them. */
  recipients?: Recipient[];
  busy: boolean;
  onSubmit: (p: Record<string, unknown>) => void;
  onCancel: () => void;
}) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      Object.entries(params).map(([k, v]) => [
        k,
        isMoney(k, v) ? ((v as number) / 100).toFixed(2) : typeof v === 'string' ? v : JSON.stringify(v),
      ]),
    ),
  );
  const [error, setError] = useState<string | null>(null);
  const [check, setCheck] = useState<EditCheck | null>(null);
  // A check the server would not make (the approval was decided or expired meanwhile, say): approving would fail too.
  const [checkError, setCheckError] = useState<string | null>(null);
  // Focus goes to the amount when there is one (what a reviewer edits most), else to the first field.
  const focusKey = Object.keys(params).find((k) => isMoney(k, params[k])) ?? Object.keys(params)[0];
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  const parsed = useMemo(() => parseEdit(params, values), [params, values]);
  useEffect(() => {
    if (!('params' in parsed)) return setCheck(null);
    let live = true;
    const timer = setTimeout(() => {
      post('/api/v1/approvals/{id}/check-edit', { params: { path: { id: approvalId } }, body: { params: parsed.params } })
        .then((r) => {
          if (!live) return;
          setCheck(r);
          setCheckError(null);
        })
        .catch((err) => {
          if (!live) return;
          setCheck(null);
          setCheckError(describeError(err));
        });
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [approvalId, parsed]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!('params' in parsed)) return setError(parsed.error);
    setError(null);
    onSubmit(parsed.params);
  };

  const refused = check && !check.ok ? check.refusal : null;
  // The API counts money in cents; the editor speaks dollars.
  const inDollars = (text: string) => text.replace(/(\d+) cents/g, (_, c: string) => fmt.cents(Number(c)));
  return (
    <form onSubmit={submit} className="param-editor" noValidate>
      {Object.entries(params).map(([k, original]) => (
        <div key={k} className="field">
          <label htmlFor={`param-${k}`}>{isMoney(k, original) ? 'amount (USD)' : k === 'to' && recipients ? 'recipient' : k}</label>
          {k === 'to' && recipients ? (
            <>
              <RecipientSelect recipients={recipients} value={values.to ?? ''} onChange={(to) => setValues({ ...values, to })} />
              <p id="recipient-note" className="muted">
                The customer&apos;s contact points for this channel; those without consent for this message cannot be chosen.
              </p>
            </>
          ) : (
            <input
              id={`param-${k}`}
              ref={k === focusKey ? first : undefined}
              inputMode={isMoney(k, original) ? 'decimal' : typeof original === 'number' ? 'numeric' : undefined}
              aria-describedby="edit-check"
              value={values[k] ?? ''}
              onChange={(e) => setValues({ ...values, [k]: e.target.value })}
            />
          )}
        </div>
      ))}
      <div id="edit-check" aria-live="polite">
        {'error' in parsed ? (
          <p className="note warn">{parsed.error}</p>
        ) : checkError ? (
          <p className="note error">This edit cannot be approved now: {checkError}</p>
        ) : refused ? (
          <p className="note error">
            Approving this would be refused: {inDollars(refused.message)}
            {refused.issues.length ? ` (${refused.issues.map((x) => inDollars(x.message)).join('; ')})` : ''}
          </p>
        ) : check ? (
          <p className="note info">
            Within the limits
            {check.limits
              ? `: at most ${fmt.cents(check.limits.creditApprovalLimitCents)} a credit, ${fmt.cents(check.limits.creditBudgetLeftCents)} left in today's credit budget`
              : ''}
            ; policy allows it.
          </p>
        ) : (
          <p className="muted">The edit is checked against policy and the limits as you type, and again when you approve.</p>
        )}
      </div>
      {error ? (
        <p className="note error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="button-row">
        <button type="submit" disabled={busy || Boolean(refused) || Boolean(checkError)}>
          Approve with these parameters
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
