/**
 * The messages between `remote.ts` (the thread that owns the source) and
 * `remote-worker.ts` (the thread that runs libhdf5). Plain data only.
 *
 * A libhdf5 file read in the worker is synchronous: the worker posts a `range` request
 * and sleeps on `control[STATE]` (`Atomics.wait`); the owner reads the range from its
 * source (async: HTTP, S3, …), copies it into the shared `window`, sets the state and
 * wakes the worker. A read larger than the window is asked for in window-sized steps.
 */
import type { Hdf5DatasetPlan } from './describe.js';
import type { Hdf5OpenOptions } from './types.js';

/** What the worker is started with. */
export interface Hdf5WorkerData {
  /** `Int32Array` over this: `[STATE, STATUS]`. */
  readonly control: SharedArrayBuffer;
  /** The bytes of one answered range. */
  readonly window: SharedArrayBuffer;
  readonly size: number;
  /** For messages only. */
  readonly name: string;
}

/** Index of the wake-up word in `control`: 0 while a range is pending, 1 when answered. */
export const STATE = 0;
/** Index of the answer's status in `control`: 0 when the window holds the bytes, 1 when the read failed. */
export const STATUS = 1;

/** Owner → worker: one call. */
export type Hdf5WorkerCall =
  | { readonly id: number; readonly call: 'describe'; readonly options: Pick<Hdf5OpenOptions, 'maxObjects' | 'maxAttributeBytes'> }
  | { readonly id: number; readonly call: 'read'; readonly plan: Hdf5DatasetPlan; readonly offset: number[] | null; readonly count: number[] | null; readonly bytes: number }
  | { readonly id: number; readonly call: 'close' };

/** Worker → owner: a range to read, or the answer to a call. */
export type Hdf5WorkerMessage =
  | { readonly kind: 'range'; readonly position: number; readonly length: number }
  | { readonly kind: 'answer'; readonly id: number; readonly value?: unknown; readonly error?: { readonly code: string; readonly message: string } };
