/**
 * Child process of test/huge-page-reuse.test.ts (run with `--expose-gc`): what the addon
 * keeps of collected huge-page buffers (`native/src/tensio_kept.c`) and what it hands out
 * again. Prints one JSON line. Modes:
 *
 * - `reuse`: an 8 MiB buffer filled and dropped comes back, stale, to the next uninitialized
 *   allocation of its size, and zeroed to a zeroed one; a 4 MiB allocation is cut from a
 *   kept 8 MiB range, whose other half stays kept.
 * - `referenced`: buffers still referenced are never handed out again.
 * - `bounded`: the kept bytes stay under the limit; trimming and the idle timer unmap them.
 * - `parquet FILE`: after a whole stacked read of a banded row group is dropped and
 *   collected, its result's range is kept (nothing of the finished read holds it).
 */
import { parquetOpen } from '../../src/formats/parquet/index.js';
import { allocateUninitialized, allocateZeroed } from '../../src/core/memory.js';
import { KEPT_RANGE_IDLE_MS, keptHugePageRanges, setKeptHugePageLimit, trimKeptHugePageRanges } from '../../src/storage/huge-pages.js';
import { memoryMapStatus } from '../../src/index.js';

const MiB = 2 ** 20;
const [mode, ...args] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const kept = () => keptHugePageRanges() ?? { bytes: 0, ranges: 0, live: 0 };

/**
 * Collects until `done()` or 2 s: a collected buffer's range is given back by its
 * finalizer, which runs on this thread after V8's sweeper (another thread) freed its store.
 */
async function collectUntil(done: () => boolean, attempts = 100): Promise<boolean> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    gc!();
    await sleep(20);
    if (done()) return true;
  }
  return false;
}

/** Drops the buffer `make` returns (nothing else references it) and collects until `bytes` more are kept. */
async function dropAndCollect(make: () => void, bytes: number): Promise<boolean> {
  const before = kept().bytes;
  make();
  return collectUntil(() => kept().bytes >= before + bytes);
}

const every = (bytes: Uint8Array, value: number) => bytes.every((byte) => byte === value);
const out: Record<string, unknown> = { mode, hugePageBuffers: memoryMapStatus().hugePageBuffers, keeps: keptHugePageRanges() !== undefined };
trimKeptHugePageRanges();

if (mode === 'reuse') {
  out.keptAfterDrop = await dropAndCollect(() => { allocateUninitialized(8 * MiB).fill(0x5a); }, 8 * MiB);
  let again: Uint8Array | undefined = allocateUninitialized(8 * MiB);
  out.staleReused = every(again, 0x5a);
  out.keptAfterReuse = kept().bytes;
  again.fill(0x44);
  out.keptAfterSecondDrop = await dropAndCollect(() => { again = undefined; }, 8 * MiB);
  let zeroed: Uint8Array | undefined = allocateZeroed(8 * MiB);
  out.zeroedReused = kept().bytes === 0;
  out.zeroedAllZero = every(zeroed, 0);
  zeroed.fill(0x77);
  out.keptAfterThirdDrop = await dropAndCollect(() => { zeroed = undefined; }, 8 * MiB);
  const half = allocateUninitialized(4 * MiB);
  out.halfStale = every(half, 0x77);
  out.keptAfterHalf = kept().bytes;
} else if (mode === 'referenced') {
  const a = allocateUninitialized(8 * MiB).fill(1);
  const b = allocateUninitialized(8 * MiB).fill(2);
  await collectUntil(() => false, 10);
  out.keptWhileReferenced = kept().bytes;
  const others = Array.from({ length: 8 }, (_, i) => allocateUninitialized(8 * MiB).fill(10 + i));
  await collectUntil(() => false, 10);
  out.intact = every(a, 1) && every(b, 2) && others.every((buffer, i) => every(buffer, 10 + i));
  out.live = kept().live;
} else if (mode === 'bounded') {
  const previous = setKeptHugePageLimit(16 * MiB);
  out.previousLimit = previous;
  let buffers: Uint8Array[] | undefined = Array.from({ length: 4 }, () => allocateUninitialized(8 * MiB).fill(9));
  out.liveBefore = kept().live;
  buffers = undefined;
  await collectUntil(() => kept().live === 0);
  out.keptUnderLimit = kept().bytes;
  trimKeptHugePageRanges();
  out.keptAfterTrim = kept().bytes;
  setKeptHugePageLimit(previous ?? 2 ** 30);
  await dropAndCollect(() => { allocateUninitialized(8 * MiB).fill(3); }, 8 * MiB);
  out.keptBeforeTimer = kept().bytes;
  // No trim here: the timer armed at allocation unmaps ranges idle for KEPT_RANGE_IDLE_MS (one or two of its looks).
  await sleep(3 * KEPT_RANGE_IDLE_MS + 200);
  out.keptAfterTimer = kept().bytes;
} else if (mode === 'parquet') {
  const read = async () => {
    const reader = await parquetOpen(args[0]!);
    try {
      return (await reader.read(reader.tensors[0]!.name)).data.byteLength;
    } finally {
      await reader.close();
    }
  };
  const length = await read();
  out.resultBytes = length;
  out.resultKept = await collectUntil(() => kept().bytes >= length);
  out.kept = kept().bytes;
}
console.log(JSON.stringify(out));
