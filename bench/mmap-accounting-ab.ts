/**
 * Mapped buffers counted or not counted by V8, A/B in one process (`node --expose-gc
 * --import tsx bench/mmap-accounting-ab.ts [--size-mib 256] [--rounds 7]`): every round
 * runs each contender once, in rotating order, over two cached files of the same size: a
 * one-array `.npy` (one mapping of the whole size) and a 64-tensor safetensors file. Each
 * contender opens the file, reads every tensor mapped (`read()`), sums every byte as
 * float64 words with the bench's JS loop (bench/lib/sum.ts, as bench/mmap.ts's "read
 * mapped + sum"), keeps the tensors and closes; before each, untimed, collections and the
 * counted path's debt paid (see settle()). Contenders:
 * - `counted`: `TENSIO_MMAP_COUNTED=1` (read by the addon at every map): Node-API external
 *   buffers, counted at their whole length by V8 (the default before session 29);
 * - `charged`: the default: buffers V8 does not count as external memory
 *   (native/src/tensio_mmap_v8.cc), each charged 1 MiB + its page tables.
 * Its own rounds (not bench/lib/ab-rounds.ts': settle() waits between runs). Printed: medians of wall ms, process CPU ms, the
 * JavaScript thread's CPU ms, minor faults, and V8 collections (PerformanceObserver 'gc'
 * entries that started inside the contender's run): all, the marking ones (incremental
 * steps and mark-compacts; the rest are scavenges) and the ms of all. Not part
 * of `npm run bench`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { memoryMapStatus, openTensorFile } from '../src/index.js';
import { abTable, AbArgs, jsThreadFaults, jsThreadNs, loadLine, requireGc, type AbSample } from './lib/ab-rounds.js';
import { makeFloat32Tensor, makeMixedTensors, npyFixtureHeader, safetensorsFixtureHeader, writeFixtureFile } from './lib/fixtures.js';
import { sumFloat64Unrolled } from './lib/sum.js';
import { median } from './lib/timing.js';

const MiB = 2 ** 20;
const args = new AbArgs();
const sizeMiB = args.number('--size-mib', 256);
const rounds = args.number('--rounds', 7);
args.rest();
requireGc();
if (!memoryMapStatus().enabled) throw new Error(`mapping is off: ${memoryMapStatus().reason}`);

const dir = mkdtempSync(join(tmpdir(), 'tensio-mmap-accounting-ab-'));
const array = makeFloat32Tensor(sizeMiB * MiB, 'array');
const npyPath = join(dir, 'one.npy');
writeFixtureFile(npyPath, [npyFixtureHeader('<f4', array.shape), array.data]);
array.data = new Uint8Array(0);
const tensors = makeMixedTensors(sizeMiB * MiB, 64);
const stPath = join(dir, 'many.safetensors');
writeFixtureFile(stPath, [safetensorsFixtureHeader(tensors).header, ...tensors.map((tensor) => tensor.data)]);
tensors.length = 0;
const files: Record<string, string> = { 'npy 1 tensor': npyPath, 'safetensors 64': stPath };

/** V8 collections (start, ms) and the contenders' timed windows, matched after the rounds (entries arrive from the loop). */
const collections: { start: number; duration: number; marking: boolean }[] = [];
const MARKING = perfConstants.NODE_PERFORMANCE_GC_MAJOR | perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
    collections.push({ start: entry.startTime, duration: entry.duration, marking: (kind & MARKING) !== 0 });
  }
});
observer.observe({ entryTypes: ['gc'] });
const windows: { key: string; start: number; end: number }[] = [];

let sink = 0;
async function readAndSum(path: string, keep: unknown[]): Promise<void> {
  const reader = await openTensorFile(path);
  try {
    for (const info of reader.tensors) {
      const tensor = await reader.read(info.name);
      sink += sumFloat64Unrolled(tensor.data);
      keep.push(tensor);
    }
  } finally {
    await reader.close();
  }
}

const flags: Record<string, string | undefined> = { counted: '1', charged: undefined };
const names = Object.keys(flags);
const gc = requireGc();
const tick = () => new Promise((resolve) => setImmediate(resolve));
/**
 * Untimed, before each run: a collection and two turns of the loop (the previous run's
 * unmaps run as finalizers), then `memoryMapStatus()`, whose stats() call pays what
 * collected counted buffers still owe V8's counter (tensio_mmap.c, pay_owed): left to the
 * next map, that payment would start a marking inside the next run, whichever contender
 * it is. Then 150 ms for such a marking to finish and another collection.
 */
async function settle(): Promise<void> {
  gc();
  await tick();
  await tick();
  memoryMapStatus();
  await new Promise((resolve) => setTimeout(resolve, 150));
  gc();
  await tick();
  await tick();
}
const samples = new Map<string, AbSample[]>();
for (let round = 0; round <= rounds; round++) {
  for (const group of Object.keys(files)) {
    for (let index = 0; index < names.length; index++) {
      const name = names[(index + round) % names.length]!;
      const flag = flags[name];
      if (flag) process.env.TENSIO_MMAP_COUNTED = flag;
      else delete process.env.TENSIO_MMAP_COUNTED;
      await settle();
      let keep: unknown[] = [];
      const key = `${group}: ${name}`;
      const faults = process.resourceUsage().minorPageFault;
      const jsFaults = jsThreadFaults();
      const js = jsThreadNs();
      const cpu = process.cpuUsage();
      const start = performance.now();
      await readAndSum(files[group]!, keep);
      const end = performance.now();
      const used = process.cpuUsage(cpu);
      const sample: AbSample = { wall: end - start, cpu: (used.user + used.system) / 1000, js: (jsThreadNs() - js) / 1e6, faults: process.resourceUsage().minorPageFault - faults, jsFaults: jsThreadFaults() - jsFaults };
      keep = [];
      if (round === 0) continue; // warms the page cache and the code
      windows.push({ key, start, end });
      samples.set(key, [...(samples.get(key) ?? []), sample]);
    }
  }
}
delete process.env.TENSIO_MMAP_COUNTED;
await new Promise((resolve) => setTimeout(resolve, 50));
observer.disconnect();
rmSync(dir, { recursive: true, force: true });

console.log(`${sizeMiB} MiB per file, ${rounds} rounds (+1 warm-up), medians, ${loadLine()}`);
const lines = abTable(samples, sizeMiB * MiB);
console.log(`${lines[0]}  GCs  marking  GC ms`);
[...samples.keys()].forEach((key, index) => {
  const timed = windows.filter((window) => window.key === key);
  const inside = timed.map((window) => collections.filter((entry) => entry.start >= window.start && entry.start < window.end));
  const marking = median(inside.map((list) => list.filter((entry) => entry.marking).length));
  console.log(`${lines[index + 1]} ${String(median(inside.map((list) => list.length))).padStart(4)} ${String(marking).padStart(8)} ${median(inside.map((list) => list.reduce((sum, entry) => sum + entry.duration, 0))).toFixed(2).padStart(6)}`);
});
if (sink === 42) console.log('');
