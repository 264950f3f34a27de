/**
 * Outcomes of one fuzz input and where failures are kept. Shared by the long-run
 * fuzzer's parent (`run.ts`) and its worker (`worker.ts`).
 */
import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFuzzInput, type FuzzInput } from './inputs.js';

/**
 * `ok`, `tensio:<CODE>` (a TensioError: the promised outcome), or a failure: `exception`
 * (any other error), `hang` (no answer within the hang bound), `crash` (the process
 * died), `memory` (peak RSS over the bound), `slow` (answered, but over the slow bound).
 */
export type FuzzOutcomeClass = 'ok' | 'tensio' | 'exception' | 'hang' | 'crash' | 'memory' | 'slow';

/** One input's result. */
export interface FuzzResult {
  index: number;
  outcome: FuzzOutcomeClass;
  /** The TensioError code, or the exception's name and message head. */
  detail?: string;
  /** First stack frame inside src/ for exceptions: tells bugs apart. */
  where?: string;
  /** CPU milliseconds (wall when several inputs ran at once). */
  ms?: number;
  peakMB?: number;
}

/** Counts of outcomes: by class, and TensioErrors by code. */
export interface FuzzCounts {
  inputs: number;
  byClass: Record<FuzzOutcomeClass, number>;
  byCode: Record<string, number>;
}

/** Empty counts. */
export function emptyCounts(): FuzzCounts {
  return { inputs: 0, byClass: { ok: 0, tensio: 0, exception: 0, hang: 0, crash: 0, memory: 0, slow: 0 }, byCode: {} };
}

/** Adds one outcome (or another set of counts) to `counts`. */
export function addCounts(counts: FuzzCounts, add: Pick<FuzzResult, 'outcome' | 'detail'> | FuzzCounts): void {
  if ('byClass' in add) {
    counts.inputs += add.inputs;
    for (const [name, n] of Object.entries(add.byClass)) counts.byClass[name as FuzzOutcomeClass] += n;
    for (const [code, n] of Object.entries(add.byCode)) counts.byCode[code] = (counts.byCode[code] ?? 0) + n;
    return;
  }
  counts.inputs++;
  counts.byClass[add.outcome]++;
  if (add.outcome === 'tensio') counts.byCode[add.detail!] = (counts.byCode[add.detail!] ?? 0) + 1;
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
 * Keeps a failing input under `outDir/<format>/<signature>/` (the file or folder, named
 * as its seed, and an `info.json`) unless that failure kind is already kept. Returns
 * true when it was new.
 */
export async function saveFuzzFailure(outDir: string, format: string, input: FuzzInput, info: Record<string, unknown> & { outcome: FuzzOutcomeClass; detail?: string; where?: string }): Promise<boolean> {
  const folder = join(outDir, format, fuzzSignature(format, info.outcome, info.detail, info.where));
  try {
    await stat(folder);
    return false;
  } catch {
    // new kind of failure
  }
  await mkdir(folder, { recursive: true });
  await writeFuzzInput(input, folder);
  await writeFile(join(folder, 'info.json'), `${JSON.stringify({ format, ...info, index: input.index, input: input.seed.name, mutatedMember: input.seed.members[input.victim]!.path }, null, 2)}\n`);
  return true;
}
