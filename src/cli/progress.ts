/**
 * The progress bar long commands draw on stderr. Only on a terminal (pipes and logs
 * get no control characters), redrawn at most every 100 ms, and wiped at the end so
 * the command's own output starts on a clean line.
 */
import type { Progress } from '../model/types.js';
import { cliFormatBytes, cliFormatThroughput } from './output.js';
import type { CliContext } from './types.js';

/** A bar to feed with {@link Progress} reports; `finish()` clears it. */
export interface CliProgressBar {
  update(progress: Progress): void;
  finish(): void;
}

const REDRAW_INTERVAL_MS = 100;
const CLEAR_LINE = '\r\x1b[2K';

/**
 * A progress bar for one operation, or a silent stand-in when stderr is not a TTY.
 *
 * @example
 * ```ts
 * const bar = cliProgressBar(io, 'convert');
 * await convert(a, b, { onProgress: (p) => bar.update(p) });
 * bar.finish();
 * ```
 */
export function cliProgressBar(io: CliContext, label: string): CliProgressBar {
  if (!io.isTTY) return { update() {}, finish() {} };
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
