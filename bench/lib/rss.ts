/**
 * Peak memory of one operation, measured in a child process (bench/child.ts) so nothing
 * the benchmark itself holds (1 GiB of source tensors) is counted. The child resets its
 * RSS high-water mark after start-up (`/proc/self/clear_refs` 5), records its baseline
 * RSS, runs the operation and reports VmHWM minus that baseline.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_FOLDER = dirname(dirname(fileURLToPath(import.meta.url)));
const CHILD_SCRIPT = join(BENCH_FOLDER, 'child.ts');

/** What the child reports. Bytes. */
export interface RssReport {
  /** RSS just before the operation. */
  baselineBytes: number;
  /** High-water mark of RSS during the operation. */
  peakBytes: number;
  /** peak - baseline: what the operation added. */
  aboveBaselineBytes: number;
  /** Seconds the operation took inside the child. */
  seconds: number;
  /** False when the kernel refused the high-water-mark reset (then the peak includes start-up). */
  peakWasReset: boolean;
}

/**
 * Runs `bench/child.ts <op> ...args` in a fresh node and returns its memory report.
 *
 * @example
 * ```ts
 * const report = await measureChildRss('convert', ['in.safetensors', 'out.npz']);
 * console.log(report.aboveBaselineBytes / 2 ** 20, 'MiB');
 * ```
 */
export function measureChildRss(op: string, args: readonly string[], options: { env?: Readonly<Record<string, string>> } = {}): Promise<RssReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', CHILD_SCRIPT, op, ...args], {
      cwd: dirname(BENCH_FOLDER),
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr = (stderr + data.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        const lines = stderr.trim().split('\n');
        const errorLine = lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.slice(-3).join(' | ');
        reject(new Error(`child ${op} exited with ${code}: ${errorLine}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as RssReport);
      } catch {
        reject(new Error(`child ${op} printed no report: ${last.slice(0, 200)}`));
      }
    });
  });
}
