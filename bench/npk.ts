/**
 * NumPack store benchmark: in-place append and replace of 100 rows into an N × 10
 * float32 array (N from `--size-mib`: 1 GiB by default, 26.8 M rows; `--quick` 32 MiB) against the NumPy way (np.load + modify + np.save of the whole .npy),
 * full load against np.load (and, so that a lazy mapping is not counted as free, load
 * plus a touch of every 4 KiB page on both sides, and tensio's read path with
 * `copy: true`), random access of 10 000 rows against a memory-mapped .npy, and lazy
 * open against np.load(mmap_mode='r'). `TENSIO_BENCH_NPK_ROWS=N` sets the row count
 * instead. Arrays above the segment target (NumPack's 256 MiB, or
 * `TENSIO_BENCH_NPK_SEGMENT_BYTES`; a quarter of the array under `--quick`, so the
 * small run has segments too) are stored as segments, as at 1 GiB. Run by `bench/run.ts` through
 * `runNpkBench`; timings are medians of several repetitions, files in the page cache
 * for both sides, one warm-up repetition first on both sides (and 51 repetitions for
 * tensio's sub-millisecond append and replace calls). tensio runs non-durable
 * (no fsync) here because NumPack and np.save do not fsync either; extra rows show the
 * default durable append and replace, and what the journal's fold at close() costs once
 * per session (appends and replaces commit through the journal, src/npk/journal.ts).
 * The machine's load average is printed with the rows (2 cores shared by many jobs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NPK_SEGMENT_TARGET_BYTES, NumPack } from '../src/npk/index.js';
import { npkSegmentRows } from '../src/npk/segments.js';
import { memoryMapStatus } from '../src/storage/memory-map.js';
import type { BenchRow as HarnessRow } from './lib/types.js';

/**
 * One result row: the harness's row (`bench/lib/types.ts`, so `bench/run.ts` prints it
 * in its table) plus the raw seconds this benchmark measured.
 */
export interface BenchRow extends HarnessRow {
  name: string;
  tensioSeconds: number;
  peerSeconds?: number;
  peer?: string;
  bytes?: number;
}

const PEER_SCRIPT = String.raw`
import json, sys, time
import numpy as np
path, reps, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def med(f):
    f()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    ts.sort(); return ts[len(ts) // 2]
def medcpu(f):
    f()
    ts = []
    for _ in range(reps):
        t = time.process_time(); f(); ts.append(time.process_time() - t)
    ts.sort(); return ts[len(ts) // 2]
rng = np.random.default_rng(0)
extra = rng.standard_normal((100, 10)).astype(np.float32)
idx = rng.choice(rows, 100, replace=False)
def append():
    a = np.load(path); np.save(path, np.concatenate([a, extra]))
def replace():
    a = np.load(path); a[idx] = extra; np.save(path, a)
out = {}
out['load'] = med(lambda: np.load(path))
def touch():
    a = np.load(path); b = a.reshape(-1).view(np.uint8); return int(b[::4096].sum())
out['load_touch'] = med(touch)
r10k = rng.integers(0, rows, 10000)
out['random'] = med(lambda: np.load(path, mmap_mode='r')[r10k].copy())
out['lazy'] = med(lambda: np.load(path, mmap_mode='r'))
out['replace'] = med(replace)
out['append'] = med(append)
out['replace_cpu'] = medcpu(replace)
out['random_cpu'] = medcpu(lambda: np.load(path, mmap_mode='r')[r10k].copy())
out['append_cpu'] = medcpu(append)
print(json.dumps(out))`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeIt(reps: number, work: () => Promise<unknown>): Promise<number> {
  await work(); // warm-up, as the NumPy side
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = process.hrtime.bigint();
    await work();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  return median(times);
}

/**
 * Median CPU time (user + system) of `work`: on a machine shared by many jobs, a call
 * under a millisecond is often descheduled for longer than it runs, so wall time
 * measures the queue; CPU time is what the call itself costs (NumPy's side: process_time).
 */
async function cpuTimeIt(reps: number, work: () => Promise<unknown>): Promise<number> {
  await work();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = process.cpuUsage();
    await work();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1e6);
  }
  return median(times);
}

function row(name: string, tensioSeconds: number, peerSeconds: number | undefined, peer: string, goalSpeedup: number | undefined, bytes?: number, note?: string): BenchRow {
  const ratio = peerSeconds !== undefined ? peerSeconds / tensioSeconds : undefined;
  return {
    name, tensioSeconds, format: 'npk', operation: name, unit: 'ms', tensio: tensioSeconds * 1000, peer, baselineName: peer,
    ...(peerSeconds !== undefined ? { peerSeconds, baseline: peerSeconds * 1000 } : {}),
    ...(ratio !== undefined ? { ratio } : {}),
    ...(goalSpeedup !== undefined ? { goal: `>= ${goalSpeedup}x faster` } : {}),
    ...(goalSpeedup !== undefined && ratio !== undefined ? { met: ratio >= goalSpeedup } : {}),
    ...(bytes !== undefined ? { bytes } : {}),
    ...(note ? { note } : {}),
  };
}

/**
 * Runs the NumPack benchmark on `sizeMiB` MiB (else 1 GiB, or 32 MiB when `quick`,
 * which also takes fewer repetitions); without `python` (the oracle interpreter with
 * numpy) the NumPy columns stay empty.
 *
 * @example
 * ```ts
 * const rows = await runNpkBench({ python: '/path/to/python', quick: true });
 * ```
 */
export async function runNpkBench(options: { python?: string; quick?: boolean; sizeMiB?: number }): Promise<BenchRow[]> {
  const sizeMiB = options.sizeMiB ?? (options.quick ? 32 : 1024);
  const rows = Number(process.env.TENSIO_BENCH_NPK_ROWS) || Math.floor((sizeMiB * 2 ** 20) / 40);
  const segmentTargetBytes = Number(process.env.TENSIO_BENCH_NPK_SEGMENT_BYTES) || (options.quick ? Math.ceil((rows * 40) / 4) : NPK_SEGMENT_TARGET_BYTES);
  const reps = options.quick ? 3 : 7;
  const dir = await mkdtemp(join(tmpdir(), 'tensio-npk-bench-'));
  try {
    const values = new Float32Array(rows * 10);
    for (let i = 0; i < values.length; i++) values[i] = Math.sin(i);
    const bytes = values.byteLength;
    const tensor = { dtype: 'float32' as const, shape: [rows, 10], data: new Uint8Array(values.buffer) };
    const npkPath = join(dir, 'bench.npk');
    const extra = { dtype: 'float32' as const, shape: [100, 10], data: new Uint8Array(new Float32Array(1000).fill(1).buffer) };
    const indexes = Array.from({ length: 100 }, (_, i) => (i * 7919) % rows);
    const random = Int32Array.from({ length: 10_000 }, (_, i) => (i * 104_729) % rows);

    let peer: Record<string, number> | undefined;
    let peerNote: string | undefined;
    if (options.python) {
      const npyPath = join(dir, 'bench.npy');
      const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, 10), }`;
      const padded = header + ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
      await writeFile(npyPath, Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), Buffer.from(Uint16Array.of(padded.length).buffer), Buffer.from(padded, 'latin1'), Buffer.from(tensor.data)]));
      // At 1 GiB NumPy's side rewrites the file about 40 times: minutes on a loaded machine.
      const result = spawnSync(options.python, ['-c', PEER_SCRIPT, npyPath, String(reps), String(rows)], { encoding: 'utf8', timeout: 1_800_000 });
      if (result.status === 0) peer = JSON.parse(result.stdout) as Record<string, number>;
      else peerNote = `numpy peer failed: ${result.error ? `${result.error.message} (timeout 30 min)` : result.stderr.trim().split('\n').pop()}`;
    } else peerNote = 'no oracle python: NumPy columns empty';

    const out: BenchRow[] = [];
    {
      // The 40 MB are saved durably (then the session runs without fsync): a write into
      // a page that the kernel is still writing back waits for the disk (stable pages),
      // and timing that would time this VM's disk, not the store. NumPy's side rewrites
      // fresh pages every time, so it never waits so.
      {
        await using durableSave = await NumPack.open(npkPath, { dropIfExists: true, segmentTargetBytes });
        await durableSave.save({ a: tensor });
      }
      await using npk = await NumPack.open(npkPath, { durable: false, segmentTargetBytes });
      // Sub-millisecond calls are timed over more repetitions (steady state: the first
      // few run before V8 has compiled them); NumPy's side is C code from the start.
      const callReps = options.quick ? 15 : 51;
      const append = await timeIt(callReps, () => npk.append({ a: extra }));
      const machineLoad = loadavg().map((value) => value.toFixed(1)).join(' ');
      out.push(row('append 100 rows', append, peer?.append, 'np.load + concatenate + np.save', 100, bytes, [peerNote, `load average ${machineLoad}`].filter(Boolean).join('; ')));
      const replace = await timeIt(callReps, () => npk.replace({ a: extra }, indexes));
      out.push(row('replace 100 rows', replace, peer?.replace, 'np.load + assign + np.save', 100, bytes));
      const appendCpu = await cpuTimeIt(callReps, () => npk.append({ a: extra }));
      out.push(row('append 100 rows, CPU time (user + system)', appendCpu, peer?.append_cpu, 'the same, process_time', 100, bytes));
      const replaceCpu = await cpuTimeIt(callReps, () => npk.replace({ a: extra }, indexes));
      out.push(row('replace 100 rows, CPU time (user + system)', replaceCpu, peer?.replace_cpu, 'the same, process_time', 100, bytes));
      await npk.save({ a: tensor });
      const load = await timeIt(reps, () => npk.load('a'));
      const mapping = memoryMapStatus();
      const segments = npk.getMetadata().arrays.a!.dataFile.endsWith('.npkseg') ? `${Math.ceil(rows / npkSegmentRows(segmentTargetBytes, 40))} segments` : 'one data file';
      out.push(row('full load', load, peer?.load, 'np.load', 1, bytes, `${segments}; ${mapping.enabled ? 'a view of one private mapping of the data (segments side by side; nothing read until touched)' : `read into fresh memory: ${mapping.reason}`}`));
      const touchPages = (data: Uint8Array) => {
        let sum = 0;
        for (let i = 0; i < data.byteLength; i += 4096) sum += data[i]!;
        return sum;
      };
      const loadTouch = await timeIt(reps, async () => touchPages((await npk.load('a')).data));
      out.push(row('full load + touch every 4 KiB page', loadTouch, peer?.load_touch, 'np.load + the same touch', undefined, bytes));
      const loadCopy = await timeIt(reps, () => npk.load('a', { copy: true }));
      out.push(row('full load, copy: true (read into fresh memory)', loadCopy, peer?.load, 'np.load', undefined, bytes));
      // A millisecond call too: timed over as many repetitions as append and replace.
      const randomReps = options.quick ? 15 : 51;
      const gather = await timeIt(randomReps, () => npk.getRows('a', random));
      out.push(row('random access 10 000 rows', gather, peer?.random, 'np.load(mmap_mode=r)[idx]', 1, bytes, mapping.enabled ? 'rows copied out of one mapping per data file (segment) in one pass' : 'coalesced reads into a reused buffer'));
      const gatherCpu = await cpuTimeIt(randomReps, () => npk.getRows('a', random));
      out.push(row('random access 10 000 rows, CPU time (user + system)', gatherCpu, peer?.random_cpu, 'the same, process_time', 1, bytes));
    }
    const lazy = await timeIt(reps, async () => {
      await using npk = await NumPack.open(npkPath, { readOnly: true });
      await npk.loadLazy('a');
    });
    out.push(row('lazy open (open + loadLazy)', lazy, peer?.lazy, 'np.load(mmap_mode=r)', undefined, bytes));
    {
      const npk = await NumPack.open(npkPath, { segmentTargetBytes });
      const callReps = options.quick ? 15 : 51;
      const durable = await timeIt(callReps, () => npk.append({ a: extra }));
      out.push(row('append 100 rows, durable (one fsync of the journal record)', durable, peer?.append, 'np.load + concatenate + np.save (no fsync)', undefined, bytes));
      const durableReplace = await timeIt(callReps, () => npk.replace({ a: extra }, indexes));
      out.push(row('replace 100 rows, durable (one fsync of the journal record)', durableReplace, peer?.replace, 'np.load + assign + np.save (no fsync)', undefined, bytes));
      const start = process.hrtime.bigint();
      await npk.close();
      const fold = Number(process.hrtime.bigint() - start) / 1e9;
      out.push(row(`close(): durable journal fold, once per session (after ${2 * (callReps + 1)} calls)`, fold, undefined, '', undefined, bytes));
    }
    {
      const npk = await NumPack.open(npkPath, { durable: false, segmentTargetBytes });
      for (let i = 0; i <= reps; i++) await npk.append({ a: extra });
      const start = process.hrtime.bigint();
      await npk.close();
      const fold = Number(process.hrtime.bigint() - start) / 1e9;
      out.push(row(`close(): journal fold without fsync, once per session (after ${reps + 1} appends)`, fold, undefined, '', undefined, bytes));
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
