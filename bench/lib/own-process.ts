/**
 * The Parquet group's "own process" contenders: tensio's read in a fresh node child
 * (bench/parquet-read-child.ts) and pyarrow's `read_table` in a fresh Python process,
 * each reading the file once untimed and then once timed, as a user's script would.
 *
 * Every start of one of these forks the benchmark's node process, and a fork
 * write-protects all of the parent's memory: tensio's next in-process read then faults
 * its reused scratch in again page by page (pqdefault measured 436 → 524 ms CPU with one
 * child before each read). So bench/tables.ts runs these in rounds of their own, after
 * every in-process round of the group, never between in-process repetitions.
 */
import { fileURLToPath } from 'node:url';
import { selfTimedSeconds } from './timing.js';

const READ_CHILD = fileURLToPath(new URL('../parquet-read-child.ts', import.meta.url));

/**
 * pyarrow's one-thread read in a fresh process: one untimed call first pays its
 * first-use costs (`read_table` imports pyarrow.dataset on its first call), as the node
 * child's untimed read does for tensio.
 */
const PYARROW_READ = `import sys, time, pyarrow.parquet as pq
pq.read_table(sys.argv[1], use_threads=False)
t = time.perf_counter(); tb = pq.read_table(sys.argv[1], use_threads=False); print(time.perf_counter() - t)`;

/**
 * Seconds of tensio's read of `file` (`stacked`: one (rows, columns) tensor; `separate`:
 * every column tensor) timed in a fresh node process after one untimed read.
 *
 * @example
 * ```ts
 * const seconds = await tensioOwnProcessSeconds('/tmp/x/read-snappy.parquet', 'stacked');
 * ```
 */
export function tensioOwnProcessSeconds(file: string, mode: 'stacked' | 'separate'): Promise<number> {
  return selfTimedSeconds(process.execPath, ['--expose-gc', '--import', 'tsx', READ_CHILD, file, mode]);
}

/**
 * Seconds of pyarrow's `read_table(file, use_threads=False)` timed in a fresh `python`
 * process after one untimed read.
 *
 * @example
 * ```ts
 * const seconds = await pyarrowOwnProcessSeconds(python, '/tmp/x/read-snappy.parquet');
 * ```
 */
export function pyarrowOwnProcessSeconds(python: string, file: string): Promise<number> {
  return selfTimedSeconds(python, ['-c', PYARROW_READ, file]);
}
