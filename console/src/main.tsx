import { Component, StrictMode, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import './styles.css';

/** A fault in one view must not blank the console: it says what broke and offers a way back. */
class Boundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <main className="signin" id="main">
        <h1>Something broke in the console</h1>
        <p className="note error" role="alert">
          {this.state.error.message}
        </p>
        <button
          type="button"
          onClick={() => {
            window.location.hash = '/';
            this.setState({ error: null });
          }}
        >
          Back to the overview
        </button>
      </main>
    );
  }
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Boundary>
      <App />
    </Boundary>
  </StrictMode>,
);
