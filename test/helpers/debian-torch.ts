/**
 * Debian's PyTorch 1.13 (`apt-get install python3-torch`, for the system `/usr/bin/python3`):
 * an older torch to check that tensio's .pt files load there and its files read here.
 * `.ci/run` installs it; without it these tests are skipped with the reason.
 */
import { spawnSync } from 'node:child_process';

let debianReason: string | false | undefined;

/**
 * `false` when Debian's PyTorch (`apt-get install python3-torch`, torch 1.13 for the system
 * `/usr/bin/python3`) is importable, else the skip reason.
 */
export function debianTorchSkip(): string | false {
  if (debianReason === undefined) {
    const result = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
    debianReason = result.status === 0 ? false : `skipped: Debian python3-torch not installed (/usr/bin/python3 -c "import torch" failed: ${(result.stderr ?? String(result.error)).trim().split('\n').pop()})`;
  }
  return debianReason;
}

/** Runs a script with Debian's /usr/bin/python3; throws with stderr on failure. */
export function runDebianPython(script: string, args: string[] = []): string {
  const result = spawnSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0) throw new Error(`debian python failed (status ${result.status}):\n${result.stderr}`);
  return result.stdout;
}
