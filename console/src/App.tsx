import { createContext, useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, describeError, get, post, session, whenUnauthorized, type Answer } from './api/client.ts';
import { useHashRoute, useLoad } from './hooks.ts';
import { fmt } from './components/ui.tsx';
import { CustomerSearchBox } from './components/search.tsx';
import { loadPermissions, type Can } from './permissions.ts';
import { Agents } from './views/Agents.tsx';
import { Customers } from './views/Customers.tsx';
import { Identity } from './views/Identity.tsx';
import { Knowledge } from './views/Knowledge.tsx';
import { Kpis } from './views/Kpis.tsx';
import { Ledger } from './views/Ledger.tsx';
import { Overview } from './views/Overview.tsx';
import { Policies } from './views/Policies.tsx';
import { Quarantine } from './views/Quarantine.tsx';
import { Queue } from './views/Queue.tsx';
import { SignIn } from './views/SignIn.tsx';
import { Work } from './views/Work.tsx';

type Principal = Answer<'/api/v1/me', 'get'>;

/** The server's clock (the live world's, when it runs), read once for every view that needs it. */
export interface WorldClock {
  now: number;
  world: { seed: number; startDay: string; daysDone: number } | null;
}
export const WorldContext = createContext<WorldClock | null>(null);

export interface ViewProps {
  me: Principal;
  can: Can;
  /** The rest of the route after the view's own segment, e.g. a customer id. */
  rest: string;
}

interface ViewDef {
  path: string;
  label: string;
  /** The route this view cannot work without: a role that may not call it does not see the view. */
  needs: [string, string];
  render: (p: ViewProps) => ReactNode;
}

const VIEWS: ViewDef[] = [
  { path: '', label: 'Overview', needs: ['GET', '/world'], render: (p) => <Overview {...p} /> },
  { path: 'queue', label: 'Review queue', needs: ['GET', '/approvals'], render: (p) => <Queue {...p} /> },
  { path: 'work', label: 'Work', needs: ['GET', '/tasks'], render: (p) => <Work {...p} /> },
  { path: 'customers', label: 'Customers', needs: ['GET', '/customers/{id}/profile'], render: (p) => <Customers {...p} /> },
  { path: 'agents', label: 'Agents', needs: ['GET', '/agents'], render: (p) => <Agents {...p} /> },
  { path: 'policies', label: 'Policies', needs: ['GET', '/policies'], render: (p) => <Policies {...p} /> },
  { path: 'ledger', label: 'Ledger', needs: ['GET', '/ledger'], render: (p) => <Ledger {...p} /> },
  { path: 'kpis', label: 'KPIs', needs: ['GET', '/kpis'], render: (p) => <Kpis {...p} /> },
  { path: 'quarantine', label: 'Quarantine', needs: ['GET', '/quarantine'], render: (p) => <Quarantine {...p} /> },
  { path: 'identity', label: 'Identity', needs: ['GET', '/identity/reviews'], render: (p) => <Identity {...p} /> },
  { path: 'knowledge', label: 'Knowledge', needs: ['GET', '/knowledge/sources'], render: (p) => <Knowledge {...p} /> },
];

export function App() {
  const [me, setMe] = useState<Principal | null>(null);
  const [can, setCan] = useState<Can | null>(null);
  const [restoring, setRestoring] = useState(() => session.token() !== null || session.cookieHint());
  const [restoreError, setRestoreError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const signOut = useCallback((why?: string) => {
    // The session cookie goes too (the server clears it); the token stays valid for API clients until revoked.
    if (session.active()) void post('/api/v1/auth/logout').catch(() => undefined);
    session.clear();
    setMe(null);
    setCan(null);
    setNotice(why ?? null);
  }, []);

  useEffect(() => whenUnauthorized(() => signOut('Your token is no longer accepted; sign in again.')), [signOut]);

  const signIn = useCallback(async (token: string) => {
    const principal = await post('/api/v1/auth/login', { headers: { authorization: `Bearer ${token}` } });
    const permissions = await loadPermissions(principal.role);
    session.save(token);
    setCan(() => permissions);
    setMe(principal);
    setNotice(null);
  }, []);

  // A reload keeps the session: the token in this tab's storage is checked again. A new tab has no token of its own
  // but the session cookie, which the same check uses. Only a refused session ends it (a tab that never signed in
  // just shows the sign-in page); a server that is restarting or unreachable gets a retry instead.
  const restore = useCallback(() => {
    const hadToken = session.token() !== null;
    if (!hadToken && !session.cookieHint()) return setRestoring(false);
    setRestoring(true);
    setRestoreError(null);
    get('/api/v1/me')
      .then(async (principal) => {
        const permissions = await loadPermissions(principal.role);
        if (!hadToken) session.useCookie();
        setCan(() => permissions);
        setMe(principal);
      })
      .catch((err) => {
        if (!(err instanceof ApiError && err.status === 401)) return setRestoreError(describeError(err));
        if (hadToken) signOut(describeError(err));
      })
      .finally(() => setRestoring(false));
  }, [signOut]);
  useEffect(restore, [restore]);

  if (restoring && !me)
    return (
      <p className="muted center" role="status">
        Checking your session…
      </p>
    );
  if (restoreError && !me) {
    return (
      <main className="signin" id="main">
        <h1>ACS console</h1>
        <p className="note error" role="alert">
          The server did not answer: {restoreError}
        </p>
        <div className="button-row">
          <button type="button" onClick={restore}>
            Try again
          </button>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setRestoreError(null);
              signOut();
            }}
          >
            Sign in with another token
          </button>
        </div>
      </main>
    );
  }
  if (!me || !can) return <SignIn onSignIn={signIn} notice={notice} />;
  return <Shell me={me} can={can} onSignOut={() => signOut()} />;
}

function Shell({ me, can, onSignOut }: { me: Principal; can: Can; onSignOut: () => void }) {
  const route = useHashRoute();
  const views = VIEWS.filter((v) => can(v.needs[0], v.needs[1]));
  const [first = '', ...rest] = route.replace(/^\//, '').split('/').map(safeDecode);
  const view = views.find((v) => v.path === first) ?? null;
  const main = useRef<HTMLElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const maySearch = can('GET', '/search');
  const world = useLoad(
    async () => {
      const w = await get('/api/v1/world');
      return { now: Date.parse(w.now), world: w.world };
    },
    [],
    5000,
  );

  // Moving to another page (a view, or a customer within one) puts focus at its start, as a page load would.
  useEffect(() => {
    document.title = `${view?.label ?? 'Not found'} · ACS console`;
    main.current?.focus();
  }, [route]);

  // `/` finds a customer from any view, unless the key is being typed into a field.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const el = e.target as HTMLElement | null;
      if (el?.closest('input, textarea, select, [contenteditable="true"]')) return;
      if (!search.current) return;
      e.preventDefault();
      search.current.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="shell">
      <a
        className="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          main.current?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="top">
        <span className="brand">ACS console</span>
        {maySearch ? (
          <CustomerSearchBox
            id="header-search"
            label="Find a customer"
            placeholder="Find a customer: name, email, phone or id  ( / )"
            inputRef={search}
            className="in-header"
          />
        ) : null}
        <span className="clock" aria-label="server clock">
          {world.data ? (
            <>
              {world.data.world ? `world day ${world.data.world.daysDone} · ` : ''}
              {fmt.time(new Date(world.data.now).toISOString())}
            </>
          ) : (
            ''
          )}
        </span>
        <span className="who">
          {me.name} <span className="badge plain">{me.role}</span>
        </span>
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Views" className="nav">
        <ul>
          {views.map((v) => (
            <li key={v.path}>
              <a href={`#/${v.path}`} aria-current={view?.path === v.path ? 'page' : undefined}>
                {v.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        <WorldContext.Provider value={world.data ?? null}>
          {view ? (
            view.render({ me, can, rest: rest.join('/') })
          ) : (
            <section>
              <h1>Not here</h1>
              <p>
                This view does not exist or your role ({me.role}) cannot use it. <a href="#/">Go to the overview</a>.
              </p>
            </section>
          )}
        </WorldContext.Provider>
      </main>
    </div>
  );
}

/** A route segment as typed; one that is not valid percent-encoding stays as it is instead of breaking the page. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
