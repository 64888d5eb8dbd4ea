import { useState, type FormEvent } from 'react';
import { describeError } from '../api/client.ts';
import { ErrorNote } from '../components/ui.tsx';

export function SignIn({ onSignIn, notice }: { onSignIn: (token: string) => Promise<void>; notice: string | null }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) return setError('Enter your API token.');
    setBusy(true);
    setError(null);
    try {
      await onSignIn(token.trim());
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin" id="main">
      <h1>ACS console</h1>
      <p>
        Sign in with an API token. The admin token of a new server is in <code>.acs/admin-token</code>; an admin makes others with{' '}
        <code>acs token create --role reviewer --name you</code>.
      </p>
      {notice ? (
        <p className="note warn" role="status">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit} noValidate>
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby={error ? 'signin-error' : undefined}
          aria-invalid={error ? true : undefined}
          autoFocus
        />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <div id="signin-error">
          <ErrorNote error={error} />
        </div>
      </form>
    </main>
  );
}
