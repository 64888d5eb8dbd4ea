import { forwardRef, useImperativeHandle, useRef, useState, type CSSProperties } from 'react';

// A plain textarea with line numbers: policy errors cite line:column, so the editor shows the lines, marks the lines
// that have a problem, tells where the cursor is, and can move the cursor to a problem. Lines do not wrap, so each
// number stays beside its line; the gutter scrolls with the text.

const LINE_HEIGHT = 1.5; // em, the same for the gutter and the text
const FONT: CSSProperties = {
  fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace",
  fontSize: '0.9rem',
  lineHeight: `${LINE_HEIGHT}em`,
};

export interface CodeEditorHandle {
  /** Focuses the editor with the cursor at `line`:`column` (both from 1), scrolled into view. */
  goTo(line: number, column?: number): void;
}

/** Offset in `text` of `line`:`column` (from 1), clamped to the text. */
export function offsetOf(text: string, line: number, column = 1): number {
  const lines = text.split('\n');
  const l = Math.min(Math.max(1, line), lines.length);
  let offset = 0;
  for (let i = 0; i < l - 1; i++) offset += lines[i]!.length + 1;
  return offset + Math.min(Math.max(0, column - 1), lines[l - 1]!.length);
}

/** Line and column (from 1) of `offset` in `text`. */
function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

export const CodeEditor = forwardRef<
  CodeEditorHandle,
  { id: string; value: string; onChange: (text: string) => void; rows?: number; errorLines?: readonly number[] }
>(function CodeEditor({ id, value, onChange, rows = 18, errorLines = [] }, ref) {
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);
  const [cursor, setCursor] = useState({ line: 1, column: 1 });
  const bad = new Set(errorLines);
  const count = value.split('\n').length;
  const gutterWidth = `${String(count).length + 2}ch`;
  const track = () => {
    const el = area.current;
    if (el) setCursor(positionOf(el.value, el.selectionStart));
  };
  const sync = () => {
    if (gutter.current && area.current) gutter.current.scrollTop = area.current.scrollTop;
  };
  useImperativeHandle(ref, () => ({
    goTo(line, column = 1) {
      const el = area.current;
      if (!el) return;
      const at = offsetOf(el.value, line, column);
      el.focus();
      el.setSelectionRange(at, at);
      // Put the line near the top third of the box.
      const px = parseFloat(getComputedStyle(el).lineHeight) || 20;
      el.scrollTop = Math.max(0, (line - 1) * px - el.clientHeight / 3);
      sync();
      track();
    },
  }));
  return (
    <div>
      <div style={{ position: 'relative', border: '1px solid #8a94a3', borderRadius: 6, overflow: 'hidden', background: '#fff' }}>
        <div
          ref={gutter}
          aria-hidden="true"
          data-gutter={id}
          style={{
            ...FONT,
            position: 'absolute',
            top: 0,
            bottom: 0,
            left: 0,
            width: gutterWidth,
            overflow: 'hidden',
            textAlign: 'right',
            padding: '0.35rem 0.4rem',
            background: '#f3f4f6',
            color: '#4b5563',
            userSelect: 'none',
            boxSizing: 'border-box',
          }}
        >
          {Array.from({ length: count }, (_, i) => (
            <div
              key={i}
              data-line={i + 1}
              data-error={bad.has(i + 1) ? 'true' : undefined}
              style={
                bad.has(i + 1)
                  ? { background: '#fdecea', color: '#8c1d18', fontWeight: 700 }
                  : cursor.line === i + 1
                    ? { color: '#111827', fontWeight: 600 }
                    : undefined
              }
            >
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          id={id}
          ref={area}
          rows={rows}
          wrap="off"
          spellCheck={false}
          value={value}
          aria-describedby={`${id}-position`}
          onChange={(e) => {
            onChange(e.target.value);
            track();
          }}
          onScroll={sync}
          onSelect={track}
          onKeyUp={track}
          onClick={track}
          style={{
            ...FONT,
            display: 'block',
            width: '100%',
            border: 'none',
            borderRadius: 0,
            paddingLeft: `calc(${gutterWidth} + 0.5rem)`,
            resize: 'vertical',
            whiteSpace: 'pre',
            overflowX: 'auto',
            height: `calc(${rows * LINE_HEIGHT}em + 0.7rem)`,
            boxSizing: 'border-box',
          }}
        />
      </div>
      <p id={`${id}-position`} className="muted" style={{ margin: '0.2rem 0 0' }}>
        Line {cursor.line}, column {cursor.column} of {count} lines
        {errorLines.length ? ` · problems on line${errorLines.length === 1 ? '' : 's'} ${[...bad].sort((a, b) => a - b).join(', ')}` : ''}
      </p>
    </div>
  );
});
