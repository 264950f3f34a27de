/**
 * The tensio CLI in a child process, for benchmarks that measure what a user runs
 * (start-up included): the built `dist/` CLI when it exists, else the sources through tsx.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = fileURLToPath(new URL('../../dist/bin/tensio.js', import.meta.url));
const source = fileURLToPath(new URL('../../src/bin/tensio.ts', import.meta.url));

/** Which CLI {@link runCliProcess} starts, for the benchmark's log. */
export function cliProcessKind(): string {
  return existsSync(built) ? 'dist/bin/tensio.js (built)' : 'src through tsx (npm run build for the built CLI)';
}

/**
 * Runs `tensio ARGS` in a child process; rejects on a non-zero exit with its stderr.
 *
 * @example
 * ```ts
 * await runCliProcess(['convert', 'in.safetensors', 'out.npz', '--quiet'], { env: { ...process.env, AWS_REGION: 'us-east-1' } });
 * ```
 */
export function runCliProcess(args: readonly string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  const command = existsSync(built) ? [built] : ['--import', 'tsx', source];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, ...args], { stdio: ['ignore', 'ignore', 'pipe'], ...(options.env ? { env: options.env } : {}) });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tensio ${args.join(' ')} exited ${code}: ${stderr.trim()}`))));
  });
}
