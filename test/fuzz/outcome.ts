/**
 * Outcomes of one fuzz input and where failures are kept. Shared by the long-run
 * fuzzer's parent (`run.ts`) and its worker (`worker.ts`).
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/**
 * `ok`, `tensio:<CODE>` (a TensioError: the promised outcome), or a failure: `exception`
 * (any other error), `hang` (no answer within the hang bound), `crash` (the process
 * died), `memory` (peak RSS over the bound), `slow` (answered, but over the slow bound).
 */
export type FuzzOutcomeClass = 'ok' | 'tensio' | 'exception' | 'hang' | 'crash' | 'memory' | 'slow';

/** One input's result as the worker reports it. */
export interface FuzzResult {
  index: number;
  outcome: FuzzOutcomeClass;
  /** The TensioError code, or the exception's name and message head. */
  detail?: string;
  /** First stack frame inside src/ for exceptions: tells bugs apart. */
  where?: string;
  ms: number;
  peakMB: number;
}

/** True for the classes that break tensio's promise. */
export function isFuzzFailure(outcome: FuzzOutcomeClass): boolean {
  return outcome !== 'ok' && outcome !== 'tensio';
}

/** A short stable id for a failure kind: same bug, same folder. */
export function fuzzSignature(format: string, outcome: FuzzOutcomeClass, detail = '', where = ''): string {
  const head = detail.replace(/\d+/g, 'N').slice(0, 120);
  return `${outcome}-${createHash('sha256').update(`${format}|${outcome}|${head}|${where}`).digest('hex').slice(0, 10)}`;
}

/**
 * Keeps a failing input under `outDir/<format>/<signature>/` unless that failure kind
 * is already kept. Returns true when it was new.
 */
export async function saveFuzzFailure(outDir: string, format: string, input: string, info: Record<string, unknown> & { outcome: FuzzOutcomeClass; detail?: string; where?: string }): Promise<boolean> {
  const folder = join(outDir, format, fuzzSignature(format, info.outcome, info.detail, info.where));
  try {
    await stat(folder);
    return false;
  } catch {
    // new kind of failure
  }
  await mkdir(folder, { recursive: true });
  await cp(input, join(folder, basename(input)), { recursive: true });
  await writeFile(join(folder, 'info.json'), `${JSON.stringify({ format, ...info, input: basename(input) }, null, 2)}\n`);
  return true;
}
