/**
 * The Python oracle environment: the reference libraries (numpy, torch, safetensors,
 * …) that interop tests write with and read back with. `.ci/run` builds it and sets
 * TENSIO_ORACLE_PYTHON; without it interop tests are skipped with a visible reason.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const DEFAULT_PYTHON = join(homedir(), '.cache', 'tensio', 'oracle-venv', 'bin', 'python');

function findPython(): { python?: string; reason?: string } {
  const fromEnv = process.env.TENSIO_ORACLE_PYTHON;
  if (fromEnv) return existsSync(fromEnv) ? { python: fromEnv } : { reason: `TENSIO_ORACLE_PYTHON=${fromEnv} does not exist` };
  if (existsSync(DEFAULT_PYTHON)) return { python: DEFAULT_PYTHON };
  return { reason: `oracle environment not found (set TENSIO_ORACLE_PYTHON or run .ci/run, which builds ${DEFAULT_PYTHON})` };
}

const found = findPython();
const moduleCache = new Map<string, string | undefined>();

/**
 * `false` when the oracle Python has every listed module, else the skip reason, so a
 * test reads `test('…', { skip: oracleSkip('numpy', 'torch') }, …)`.
 */
export function oracleSkip(...modules: string[]): string | false {
  if (!found.python) return `skipped: ${found.reason}`;
  for (const name of modules) {
    if (!moduleCache.has(name)) {
      const result = spawnSync(found.python, ['-c', `import ${name}`], { encoding: 'utf8' });
      moduleCache.set(name, result.status === 0 ? undefined : (result.stderr.trim().split('\n').pop() ?? 'import failed'));
    }
    const problem = moduleCache.get(name);
    if (problem) return `skipped: oracle module ${name} unavailable (${problem})`;
  }
  return false;
}

/** Runs a Python script in the oracle environment; throws with its stderr if it fails. Returns stdout. */
export function runPython(script: string, args: string[] = [], options: { expectFailure?: boolean; timeoutMs?: number } = {}): { stdout: string; stderr: string; status: number | null } {
  if (!found.python) throw new Error(`oracle python unavailable: ${found.reason}`);
  const result = spawnSync(found.python, ['-c', script, ...args], { encoding: 'utf8', timeout: options.timeoutMs ?? 120_000, maxBuffer: 256 * 2 ** 20 });
  if (!options.expectFailure && result.status !== 0) {
    throw new Error(`oracle python failed (status ${result.status}):\n${result.stderr}\n--- script ---\n${script}`);
  }
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

/** Path of the oracle python, when present. */
export const oraclePython: string | undefined = found.python;
