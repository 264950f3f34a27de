/**
 * Store changes that publish in several steps, for the crash tests: each scenario builds
 * an old store (`setup`, in the test process) and changes it (`act`, in a child process
 * that a crash point kills). See test/npk-crash.test.ts.
 */
import { join } from 'node:path';
import { NumPack } from '../../src/npk/index.js';
import { patternTensor } from './npk-fixtures.js';

/** One multi-step change. */
export interface CrashScenario {
  /** Builds the old store at `join(dir, 'store.npk')` (and any input files in `dir`). */
  setup(dir: string): Promise<void>;
  /** The change; runs in the child. */
  act(dir: string): Promise<void>;
}

/** The store every scenario changes. */
export const storeOf = (dir: string) => join(dir, 'store.npk');

/** Old store: x is plain with deleted rows (a bitmap), y is plain, z is segmented. */
async function oldStore(dir: string): Promise<void> {
  const npk = await NumPack.open(storeOf(dir), { durable: false });
  try {
    await npk.save({ x: patternTensor('int32', [6, 2], 1), y: patternTensor('float32', [3], 2) });
    await npk.drop('x', [1, 4]);
  } finally {
    await npk.close();
  }
  const segmented = await NumPack.open(storeOf(dir), { segmentTargetBytes: 16, durable: false });
  try {
    await segmented.save({ z: patternTensor('int32', [8, 2], 3) }); // 16-byte segments: 2 rows each
  } finally {
    await segmented.close();
  }
}

async function withStore(dir: string, work: (npk: NumPack) => Promise<void>, options: { segmentTargetBytes?: number; durable?: boolean } = {}): Promise<void> {
  const npk = await NumPack.open(storeOf(dir), options);
  try {
    await work(npk);
  } finally {
    await npk.close();
  }
}

export const CRASH_SCENARIOS: Record<string, CrashScenario> = {
  /** `tensio convert in.safetensors store.npk --force` over the old store. */
  'convert --force': {
    async setup(dir) {
      await oldStore(dir);
      const { writeWithFormat } = await import('./cli.js');
      await writeWithFormat('safetensors', join(dir, 'in.safetensors'), { x: patternTensor('int32', [6, 2], 7), w: patternTensor('float64', [2, 2], 8) });
    },
    async act(dir) {
      const { runCli } = await import('./cli.js'); // loaded only here: the children of other scenarios start faster
      const run = await runCli(['convert', 'in.safetensors', 'store.npk', '--force'], { cwd: dir });
      if (run.code !== 0) throw new Error(run.stderr);
    },
  },
  /** `fromSafetensors(tensors, store, { dropIfExists: true })`: x keeps its shape, so the old bitmap would fit it. */
  'fromSafetensors dropIfExists': {
    setup: oldStore,
    act: async (dir) => (await import('../../src/io/index.js')).fromSafetensors({ x: patternTensor('int32', [6, 2], 9), v: patternTensor('uint8', [5], 10) }, storeOf(dir), { dropIfExists: true }),
  },
  /** save over x (same shape and file name, old bitmap: the silent-mix case) and z (segmented → plain) in one call. */
  'save over arrays': {
    setup: oldStore,
    act: (dir) => withStore(dir, (npk) => npk.save({ x: patternTensor('int32', [6, 2], 11), z: patternTensor('int32', [3, 2], 12) })),
  },
  /** compact x (drops its deleted rows and its bitmap). */
  compact: {
    setup: oldStore,
    act: (dir) => withStore(dir, (npk) => npk.compact('x')),
  },
  /** drop rows of y (first bitmap) and of x (bitmap replaced); without fsync (the synchronous publish path). */
  'drop rows': {
    setup: oldStore,
    act: (dir) => withStore(dir, (npk) => npk.drop(['x', 'y'], [0]), { durable: false }),
  },
  /** append to x (bitmap grows with the catalogue) and to z (a new segment); without fsync. */
  append: {
    setup: oldStore,
    act: (dir) => withStore(dir, (npk) => npk.append({ x: patternTensor('int32', [3, 2], 13), z: patternTensor('int32', [3, 2], 14) }), { segmentTargetBytes: 16, durable: false }),
  },
  /**
   * replace rows 0 and 2 of x (deleted rows: logical → physical), y (plain, 1-D) and z
   * (segmented: the rows lie in two segment files) in one call, without fsync: one
   * journal record commits all of them, then they are written in place.
   */
  'replace rows': {
    setup: oldStore,
    act: (dir) => withStore(dir, (npk) => npk.replace({ x: patternTensor('int32', [2, 2], 16), y: patternTensor('float32', [2], 17), z: patternTensor('int32', [2, 2], 18) }, [0, 2]), { durable: false }),
  },
  /** The same replace, durable (the journal's record fsynced, the data synced at the fold). */
  'replace rows, durable': {
    setup: oldStore,
    act: (dir) => withStore(dir, (npk) => npk.replace({ x: patternTensor('int32', [2, 2], 19), y: patternTensor('float32', [2], 20), z: patternTensor('int32', [2, 2], 21) }, [0, -1])),
  },
  /** append to y, which has no deleted rows: a journal record is the commit, folded into the catalogue at close. */
  'append without deletions': {
    setup: oldStore,
    act: (dir) => withStore(dir, (npk) => npk.append({ y: patternTensor('float32', [2], 15) })),
  },
};
