/**
 * The Python peers (numpy, torch, safetensors) in the oracle environment, run as one
 * long-lived worker (bench/lib/peers.py) so their repetitions interleave with tensio's
 * and the raw-fs baselines in the same rounds. Timing happens inside Python.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const PEERS_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'peers.py');

/**
 * The oracle python: TENSIO_ORACLE_PYTHON, else ~/.cache/tensio/oracle-venv/bin/python;
 * undefined (with the reason) when neither exists.
 *
 * @example
 * ```ts
 * const { python, reason } = findOraclePython();
 * ```
 */
export function findOraclePython(): { python?: string; reason?: string } {
  const fromEnv = process.env.TENSIO_ORACLE_PYTHON;
  if (fromEnv) return existsSync(fromEnv) ? { python: fromEnv } : { reason: `TENSIO_ORACLE_PYTHON=${fromEnv} does not exist` };
  const fallback = join(homedir(), '.cache', 'tensio', 'oracle-venv', 'bin', 'python');
  return existsSync(fallback) ? { python: fallback } : { reason: `oracle python not found (set TENSIO_ORACLE_PYTHON or build ${fallback})` };
}

/** A worker answer: `ok` plus `seconds` for timed operations, or `error`. */
export interface PeerAnswer {
  ok: boolean;
  seconds?: number;
  error?: string;
  versions?: Record<string, string | null>;
}

/**
 * One Python worker process. Commands run one at a time, in order.
 *
 * @example
 * ```ts
 * const peers = await PythonPeers.start(python);
 * const seconds = await peers.time('np.save', '/tmp/a.npy');
 * await peers.stop();
 * ```
 */
export class PythonPeers {
  private readonly pending: ((line: string) => void)[] = [];
  private stderr = '';
  private exited = false;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.pending.shift()?.(line));
    child.stderr.on('data', (data: Buffer) => {
      this.stderr = (this.stderr + data.toString()).slice(-4000);
    });
    child.on('exit', () => {
      this.exited = true;
      for (const resolve of this.pending.splice(0)) resolve(JSON.stringify({ ok: false, error: `python worker exited: ${this.stderr.trim().split('\n').pop() ?? ''}` }));
    });
  }

  /** Starts the worker in `python` and checks that it answers. */
  static async start(python: string): Promise<PythonPeers> {
    const child = spawn(python, ['-u', PEERS_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    const peers = new PythonPeers(child);
    const answer = await peers.send({ op: 'versions' });
    if (!answer.ok) throw new Error(`python peers did not start: ${answer.error}`);
    peers.versions = answer.versions ?? {};
    return peers;
  }

  /** Library versions the worker found (null for a missing one). */
  versions: Record<string, string | null> = {};

  /** Sends one command and waits for its answer. */
  send(command: Record<string, unknown>): Promise<PeerAnswer> {
    if (this.exited) return Promise.resolve({ ok: false, error: 'python worker has exited' });
    return new Promise((resolve) => {
      this.pending.push((line) => {
        try {
          resolve(JSON.parse(line) as PeerAnswer);
        } catch {
          resolve({ ok: false, error: `bad answer from python: ${line.slice(0, 200)}` });
        }
      });
      this.child.stdin.write(`${JSON.stringify(command)}\n`);
    });
  }

  /** Runs a command and throws with Python's error when it fails. */
  async call(op: string, fields: Record<string, unknown> = {}): Promise<PeerAnswer> {
    const answer = await this.send({ op, ...fields });
    if (!answer.ok) throw new Error(`${op}: ${answer.error}`);
    return answer;
  }

  /** Runs a timed peer operation on `path`; returns the seconds Python measured. */
  async time(op: string, path: string, fields: Record<string, unknown> = {}): Promise<number> {
    const answer = await this.call(op, { path, ...fields });
    if (typeof answer.seconds !== 'number') throw new Error(`${op}: no timing in the answer`);
    return answer.seconds;
  }

  /** Ends the worker. */
  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 5000))]);
    if (!this.exited) this.child.kill();
  }
}
