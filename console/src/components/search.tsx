import { useEffect, useRef, useState, type KeyboardEvent, type Ref } from 'react';
import { describeError, get, type Answer } from '../api/client.ts';
import { navigate } from '../hooks.ts';

type SearchAnswer = Answer<'/api/v1/search', 'get'>;
type Hit = SearchAnswer['data'][number];

/** How long typing must pause before the console asks the server. */
const DEBOUNCE_MS = 200;
const LIMIT = 8;

const FIELD_LABEL: Record<Hit['matchedOn'], string> = {
  customerId: 'customer id',
  accountId: 'account id',
  email: 'email',
  phone: 'phone',
  name: 'name',
};

/** What the hit matched, as a short line under its name. */
function matchedText(hit: Hit): string {
  const c = hit.contact;
  if (hit.matchedOn === 'email' && c?.email) return `email ${c.email}`;
  if (hit.matchedOn === 'phone' && c?.phone) return `phone ${c.phone}`;
  if (hit.matchedOn === 'name' && c) return `contact ${[c.firstName, c.lastName].filter(Boolean).join(' ')}`;
  return `${hit.match} match on ${FIELD_LABEL[hit.matchedOn]}`;
}

type State =
  | { kind: 'idle' }
  | { kind: 'loading'; q: string }
  | { kind: 'done'; q: string; hits: Hit[]; idsOnly: boolean }
  | { kind: 'error'; q: string; message: string };

/**
 * Find a customer as you type (GET /api/v1/search, debounced) and open their 360: a combobox whose options are the
 * customers found, best first. Arrow keys move through them and Enter opens the one chosen (the best at first), a click
 * opens the one clicked, Escape closes the list. Hovering only highlights: Enter never opens what the pointer happens to rest on.
 */
export function CustomerSearchBox({
  id,
  label,
  placeholder,
  inputRef,
  className,
}: {
  id: string;
  label: string;
  placeholder: string;
  inputRef?: Ref<HTMLInputElement>;
  className?: string;
}) {
  const [text, setText] = useState('');
  const [state, setState] = useState<State>({ kind: 'idle' });
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const generation = useRef(0);
  const listId = `${id}-results`;

  useEffect(() => {
    const q = text.trim();
    const mine = ++generation.current;
    if (!q) {
      setState({ kind: 'idle' });
      return;
    }
    setState({ kind: 'loading', q });
    const timer = setTimeout(() => {
      get('/api/v1/search', { params: { query: { q, limit: LIMIT } } })
        .then((answer) => {
          if (mine !== generation.current) return;
          setState({ kind: 'done', q, hits: answer.data, idsOnly: answer.fields === 'ids' });
          setActive(answer.data.length ? 0 : -1);
        })
        .catch((err) => {
          if (mine === generation.current) setState({ kind: 'error', q, message: describeError(err) });
        });
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const hits = state.kind === 'done' ? state.hits : [];
  const choose = (hit: Hit) => {
    setOpen(false);
    setText('');
    navigate(`/customers/${encodeURIComponent(hit.accountId)}`);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' && hits.length) {
      e.preventDefault();
      setOpen(true);
      setActive((i) => (i + 1) % hits.length);
    } else if (e.key === 'ArrowUp' && hits.length) {
      e.preventDefault();
      setOpen(true);
      setActive((i) => (i <= 0 ? hits.length - 1 : i - 1));
    } else if (e.key === 'Escape') {
      if (open) {
        e.preventDefault();
        setOpen(false);
      } else setText('');
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const hit = hits[active] ?? hits[0];
      if (hit) choose(hit);
      else setOpen(true);
    }
  };

  const showList = open && state.kind !== 'idle';
  const status =
    state.kind === 'loading'
      ? 'Searching…'
      : state.kind === 'error'
        ? `Search failed: ${state.message}`
        : state.kind === 'done'
          ? state.hits.length
            ? `${state.hits.length}${state.hits.length === LIMIT ? '+' : ''} customer${state.hits.length === 1 ? '' : 's'} found`
            : `No customer matches “${state.q}”${state.idsOnly ? ' (your role searches by customer or account id only)' : ''}`
          : '';

  return (
    <div
      className={`customer-search ${className ?? ''}`}
      role="search"
      aria-label={label}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOpen(false);
      }}
    >
      <label htmlFor={id} className="sr-only">
        {label}
      </label>
      <input
        id={id}
        ref={inputRef}
        type="search"
        role="combobox"
        autoComplete="off"
        spellCheck={false}
        aria-expanded={showList}
        aria-controls={showList ? listId : undefined}
        aria-autocomplete="list"
        aria-activedescendant={showList && hits[active] ? `${listId}-${active}` : undefined}
        placeholder={placeholder}
        value={text}
        maxLength={200}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onKeyDown={onKeyDown}
      />
      <p className="sr-only" role="status" aria-live="polite">
        {open ? status : ''}
      </p>
      {showList ? (
        <div className="search-results">
          {hits.length ? (
            <ul id={listId} role="listbox" aria-label={`${label}: results`}>
              {hits.map((hit, i) => (
                <li
                  key={hit.accountId}
                  id={`${listId}-${i}`}
                  role="option"
                  aria-selected={i === active}
                  className={i === active ? 'active' : undefined}
                  onMouseDown={(e) => e.preventDefault()}
                  onClick={() => choose(hit)}
                >
                  <span className="hit-name">{hit.name}</span> <code>{hit.customerId}</code>
                  <span className="hit-match">{matchedText(hit)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p id={listId} className="search-note">
              {status}
            </p>
          )}
        </div>
      ) : null}
    </div>
  );
}
