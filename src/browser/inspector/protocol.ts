/**
 * The messages between the inspector page (`app.ts`) and its Web Worker (`worker.ts`).
 * Every request carries an `id`; the worker answers with a result or an error for that
 * id, and long runs (statistics, verify, diff) send progress first and stop on `cancel`.
 * Two slots hold open files: `a` (the file shown) and `b` (the one compared with it).
 */
import type { TensorStatistics } from '../../operations/tensor-stats.js';
import type { DiffReport } from '../../operations/diff.js';
import type { VerifyReport } from '../../model/types.js';

/** A file the user chose or dropped. */
export type NamedBlob = Blob & { readonly name: string };

/**
 * What to open: one file the user chose or dropped, several (a sharded checkpoint's
 * `*.index.json` with its shards), or a URL.
 */
export type InspectorInput =
  | { readonly kind: 'file'; readonly file: NamedBlob }
  | { readonly kind: 'files'; readonly files: readonly NamedBlob[] }
  | { readonly kind: 'url'; readonly url: string };

/** Which open file a request is about. */
export type Slot = 'a' | 'b';

/** One tensor row of the table. */
export interface TensorRow {
  readonly name: string;
  readonly dtype: string;
  /** The format's own dtype name, when it differs. */
  readonly formatDtype?: string;
  readonly shape: readonly number[];
  readonly parameters: number;
  readonly bytes: number;
  /** The shard file holding it (sharded checkpoints). */
  readonly shard?: string;
}

/** What the page shows after opening: everything from the header, no tensor data. */
export interface FileSummary {
  readonly name: string;
  readonly format: string;
  /** Size of the file (of the index, for a sharded checkpoint), when known. */
  readonly size?: number;
  /** Metadata as key and display text (JSON for structured values). */
  readonly metadata: ReadonlyArray<readonly [string, string]>;
  readonly tensors: readonly TensorRow[];
}

/** Page → worker. */
export type InspectorRequest =
  | { readonly type: 'open'; readonly id: number; readonly slot: Slot; readonly input: InspectorInput }
  | { readonly type: 'stats'; readonly id: number; readonly slot: Slot; readonly name: string; readonly bins: number; readonly chunkBytes?: number }
  | { readonly type: 'verify'; readonly id: number; readonly slot: Slot }
  | { readonly type: 'diff'; readonly id: number; readonly chunkBytes?: number }
  | { readonly type: 'cancel'; readonly id: number };

/** Worker → page. */
export type InspectorResponse =
  | { readonly type: 'opened'; readonly id: number; readonly slot: Slot; readonly summary: FileSummary }
  | { readonly type: 'progress'; readonly id: number; readonly done: number; readonly total: number }
  | { readonly type: 'stats'; readonly id: number; readonly stats: TensorStatistics }
  | { readonly type: 'verified'; readonly id: number; readonly report: VerifyReport }
  | { readonly type: 'diffed'; readonly id: number; readonly report: DiffReport }
  | { readonly type: 'error'; readonly id: number; readonly code: string; readonly message: string };
