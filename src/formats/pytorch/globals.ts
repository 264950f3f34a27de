/**
 * Reports the globals a checkpoint's pickles reference, by disassembly only, for
 * `tensio inspect` and for error messages: a refused file still says what it wanted.
 */
import { PICKLE_MAX_BYTES } from '../../core/limits.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { fileSource } from '../../storage/file-source.js';
import { zipOpen } from '../../zip/read.js';
import { pickleScanGlobals, type PickleGlobalReference, type PickleScanReport } from './pickle/scan.js';
import { pytorchIsZip } from './reader.js';

/** The globals of one pickle in a checkpoint. */
export interface PytorchPickleGlobals {
  /** Zip member name, or `''` for a legacy (non-zip) file's pickles. */
  readonly pickle: string;
  readonly report: PickleScanReport;
}

/** What {@link pytorchListGlobals} found. */
export interface PytorchGlobalsReport {
  readonly pickles: readonly PytorchPickleGlobals[];
  /** Every distinct global, in first-seen order; unresolved STACK_GLOBALs appear as `(unresolved)`. */
  readonly globals: readonly { global: string; allowed: boolean }[];
  /** True when every reference is on the allow-list (the file can be opened). */
  readonly safe: boolean;
}

/** Options for {@link pytorchListGlobals}. */
export interface PytorchListGlobalsOptions {
  /** Largest pickle scanned (default PICKLE_MAX_BYTES). */
  maxPickleBytes?: number;
  signal?: AbortSignal;
}

function isPickleMember(name: string, head: Uint8Array): boolean {
  return name.endsWith('.pkl') || (head[0] === 0x80 && head[1]! <= 5);
}

/**
 * Lists every global the checkpoint's pickles reference (zip members named `*.pkl` or
 * starting with a pickle PROTO; legacy files from the start), without running anything.
 *
 * @example
 * ```ts
 * const report = await pytorchListGlobals('suspicious.pt');
 * if (!report.safe) console.log(report.globals.filter((g) => !g.allowed));
 * ```
 */
export async function pytorchListGlobals(input: string | ByteSource, options: PytorchListGlobalsOptions = {}): Promise<PytorchGlobalsReport> {
  const owned = typeof input === 'string' ? await fileSource(input) : undefined;
  const source = owned ?? (input as ByteSource);
  const maxBytes = options.maxPickleBytes ?? PICKLE_MAX_BYTES;
  const readOptions = options.signal ? { signal: options.signal } : undefined;
  const pickles: PytorchPickleGlobals[] = [];
  try {
    const head = await source.read(0, Math.min(16, source.size), readOptions);
    if (pytorchIsZip(head)) {
      const archive = await zipOpen(source, { format: 'pytorch', ...(options.signal ? { signal: options.signal } : {}) });
      for (const entry of archive.entries) {
        if (entry.uncompressedSize > maxBytes || entry.uncompressedSize < 2) continue;
        if (!entry.name.endsWith('.pkl') && entry.method !== 0) continue;
        const offset = entry.method === 0 ? await archive.dataOffset(entry, readOptions ?? {}) : undefined;
        const memberHead = offset === undefined ? new Uint8Array([0x80, 0]) : await source.read(offset, 2, readOptions);
        if (!isPickleMember(entry.name, memberHead)) continue;
        const bytes = await archive.readEntry(entry, { ...(readOptions ?? {}), checkCrc: false });
        pickles.push({ pickle: entry.name, report: pickleScanGlobals(bytes, { format: 'pytorch' }) });
      }
    } else {
      const bytes = await source.read(0, Math.min(source.size, maxBytes), readOptions);
      pickles.push({ pickle: '', report: pickleScanGlobals(bytes, { format: 'pytorch' }) });
    }
  } finally {
    await owned?.close();
  }
  const seen = new Map<string, boolean>();
  for (const { report } of pickles) {
    for (const ref of report.globals as PickleGlobalReference[]) {
      const name = ref.global ?? '(unresolved)';
      if (!seen.has(name)) seen.set(name, ref.allowed);
    }
  }
  const globals = [...seen].map(([global, allowed]) => ({ global, allowed }));
  return { pickles, globals, safe: globals.every((entry) => entry.allowed) };
}
