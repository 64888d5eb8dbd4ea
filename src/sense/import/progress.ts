/** Draws a one-line progress bar on a terminal; on anything else it stays silent so logs get only the summary. */
export function progressBar(stream: NodeJS.WriteStream, label: string): (done: number, total: number) => void {
  if (!stream.isTTY) return () => undefined;
  const started = performance.now();
  return (done, total) => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const fraction = total > 0 ? Math.min(done / total, 1) : 1;
    const eta = rate > 0 ? (total - done) / rate : 0;
    const line = `${label} ${bar(fraction)} ${Math.floor(fraction * 100)}% ${done}/${total} ${Math.round(rate)} rows/s ETA ${duration(eta)}`;
    // \r returns to the line start and \x1b[K clears what a longer previous line left behind.
    stream.write(`\r${line.slice(0, Math.max((stream.columns || 80) - 1, 20))}\x1b[K`);
    if (done >= total) stream.write('\n');
  };
}

const WIDTH = 24;

function bar(fraction: number): string {
  const filled = Math.round(fraction * WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}]`;
}

function duration(seconds: number): string {
  const s = Math.ceil(seconds);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
