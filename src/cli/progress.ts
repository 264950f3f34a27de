/**
 * Progress of long commands on stderr. On a terminal: a bar redrawn at most every
 * 100 ms and wiped at the end. Elsewhere (CI logs, pipes): plain lines, no control
 * characters, one every {@link PROGRESS_LINE_INTERVAL_MS} once an operation has run
 * that long (so short commands print nothing), or from the start with `--progress`.
 * `--quiet` prints no progress at all.
 */
import type { Progress } from '../model/types.js';
import { cliFormatBytes, cliFormatSeconds, cliFormatThroughput } from './output.js';
import type { CliContext } from './types.js';

/** A bar to feed with {@link Progress} reports; `finish()` clears it. */
export interface CliProgressBar {
  update(progress: Progress): void;
  finish(): void;
}

/** How progress is shown: `auto` (bar on a terminal, periodic lines elsewhere), `always` (`--progress`), `never` (`--quiet`). */
export type CliProgressMode = 'auto' | 'always' | 'never';

const REDRAW_INTERVAL_MS = 100;
/** Plain progress lines (not a terminal): at most one per 10 s, enough for a CI log. */
export const PROGRESS_LINE_INTERVAL_MS = 10_000;
/** With `--progress` and no terminal: one line per second. */
const FORCED_LINE_INTERVAL_MS = 1_000;
const CLEAR_LINE = '\r\x1b[2K';

/**
 * The progress mode from `--progress` / `--quiet` (both given: a usage error is the
 * caller's to raise).
 *
 * @example
 * ```ts
 * cliProgressMode({ quiet: true }); // 'never'
 * ```
 */
export function cliProgressMode(values: Readonly<Record<string, unknown>>): CliProgressMode {
  if (values.quiet === true) return 'never';
  if (values.progress === true) return 'always';
  return 'auto';
}

/**
 * A progress display for one operation.
 *
 * @example
 * ```ts
 * const bar = cliProgressBar(io, 'convert');
 * await convert(a, b, { onProgress: (p) => bar.update(p) });
 * bar.finish();
 * ```
 */
export function cliProgressBar(io: CliContext, label: string, mode: CliProgressMode = 'auto'): CliProgressBar {
  if (mode === 'never') return { update() {}, finish() {} };
  return io.isTTY ? terminalBar(io, label) : progressLines(io, label, mode === 'always');
}

/** Periodic plain lines: `convert: 42% 1.2 GiB/2.9 GiB 310.0 MiB/s, 12 s, tensor.name`. */
function progressLines(io: CliContext, label: string, forced: boolean): CliProgressBar {
  const started = io.now();
  const interval = forced ? FORCED_LINE_INTERVAL_MS : PROGRESS_LINE_INTERVAL_MS;
  // Unforced lines wait a whole interval: a command that ends sooner prints none.
  let lastLine = forced ? -Infinity : started;
  let last: Progress | undefined;
  let printed = false;
  const line = (progress: Progress): string => {
    const seconds = (io.now() - started) / 1000;
    const percent = progress.total > 0 ? Math.floor(Math.min(1, progress.done / progress.total) * 100) : 100;
    return `${label}: ${percent}% ${cliFormatBytes(progress.done)}/${cliFormatBytes(progress.total)} ${cliFormatThroughput(progress.done, seconds)}, ${cliFormatSeconds(seconds)}${progress.item ? `, ${progress.item}` : ''}\n`;
  };
  return {
    update(progress) {
      last = progress;
      const now = io.now();
      if (now - lastLine < interval) return;
      lastLine = now;
      printed = true;
      io.stderr(line(progress));
    },
    finish() {
      // Close a log that showed progress with the final state.
      if (printed && last && last.done !== 0) io.stderr(line(last));
      printed = false;
    },
  };
}

function terminalBar(io: CliContext, label: string): CliProgressBar {
  const started = io.now();
  let lastDraw = -Infinity;
  let drawn = false;

  const draw = (progress: Progress): void => {
    const columns = Math.max(40, io.columns ?? 80);
    const fraction = progress.total > 0 ? Math.min(1, progress.done / progress.total) : 1;
    const seconds = (io.now() - started) / 1000;
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    const amounts = `${cliFormatBytes(progress.done)}/${cliFormatBytes(progress.total)} ${cliFormatThroughput(progress.done, seconds)}`;
    const item = progress.item ? ` ${progress.item}` : '';
    const barWidth = Math.max(10, Math.min(30, columns - label.length - amounts.length - 12));
    const filled = Math.round(fraction * barWidth);
    let line = `${label} [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${percent} ${amounts}${item}`;
    if (line.length > columns - 1) line = line.slice(0, columns - 2) + '…';
    io.stderr(CLEAR_LINE + line);
    drawn = true;
  };

  return {
    update(progress) {
      const now = io.now();
      if (now - lastDraw < REDRAW_INTERVAL_MS && progress.done < progress.total) return;
      lastDraw = now;
      draw(progress);
    },
    finish() {
      if (drawn) io.stderr(CLEAR_LINE);
      drawn = false;
    },
  };
}
