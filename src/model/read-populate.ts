/**
 * `read()`'s default fault-ahead of a mapped view (`ReadTensorOptions.populate` unset; its
 * TSDoc says why populating is the default). Kept apart from `create-reader.ts` so the
 * root entry can export the bound without loading the reader and what it imports (the
 * chunked-bytes layer pulls in `node:zlib`, which `import('tensio')` must not load).
 */
import { memoryMapPopulatePending } from '../storage/memory-map.js';

/**
 * `read()`'s default fault-ahead (`ReadTensorOptions.populate` unset) is skipped while the
 * addon's populate worker has more than this many bytes of jobs still to do (64 MiB, the
 * bound `readEach` reads ahead by): the worker is behind the caller, and a job queued
 * behind them would start after the caller has touched the pages anyway.
 */
export const READ_POPULATE_BACKLOG_BYTES = 64 * 2 ** 20;

/**
 * Whether a mapped view read without a `populate` option gets a populate job: yes while
 * the addon's worker has at most {@link READ_POPULATE_BACKLOG_BYTES} of jobs still to do.
 * A caller that reads (and drops) tensors faster than they can be populated would
 * otherwise queue jobs without bound, each holding its mapping alive until it settles
 * (found by the churn test: 3,000 reads of a 16 MiB tensor kept all 3,000 mapped). No
 * when the addon cannot tell its backlog (built before `populatePending` existed): lazy,
 * as before.
 */
export function defaultReadPopulate(): boolean {
  const pending = memoryMapPopulatePending();
  return pending !== undefined && pending <= READ_POPULATE_BACKLOG_BYTES;
}
