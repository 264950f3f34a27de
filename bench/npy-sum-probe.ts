/**
 * Where `.npy` "read mapped + JS sum" spends its time (`node --expose-gc --import tsx
 * bench/npy-sum-probe.ts [--size-mib 256] [--rounds 7] [--python PY]`): one cached `.npy`
 * of float32 (written in one piece: large page-cache folios; and in 64 KiB pieces: small
 * ones) is opened, read mapped (`read()`), summed twice with the bench's 8-accumulator
 * loop (bench/lib/sum.ts) and closed, every phase timed apart: wall ms, the JavaScript
 * thread's CPU ms (`/proc/self/task/<pid>/schedstat`), V8 collection ms inside the phase
 * (`PerformanceObserver` 'gc' entries) and minor faults. The second sum over the same
 * mapping gives the first touch's excess; a sum over a hot heap buffer of the same size
 * gives the loop alone; `all` spans open to close, both sums included. With `--python`, the same phases of `np.load(mmap_mode='r')` and
 * `np.add.reduce` over a float64 view run in a child after each round (thread CPU ms
 * from `time.thread_time_ns`, faults from `getrusage`). Not part of `npm run bench`.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { memoryMapStatus, openTensorFile } from '../src/index.js';
import { makeFloat32Tensor, npyFixtureHeader } from './lib/fixtures.js';
import { sumFloat64Unrolled } from './lib/sum.js';

const MiB = 2 ** 20;
const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1]! : fallback;
};
const sizeMiB = Number(option('--size-mib', '256'));
const rounds = Number(option('--rounds', '7'));
const python = option('--python', '');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
console.log(`mapping: ${memoryMapStatus().enabled ? 'on' : 'off'} (${memoryMapStatus().reason})`);

const dir = mkdtempSync(join(tmpdir(), 'tensio-npy-sum-probe-'));
const array = makeFloat32Tensor(sizeMiB * MiB, 'array');
const header = npyFixtureHeader('<f4', array.shape);
function writeFile(path: string, pieceBytes: number): void {
  const fd = openSync(path, 'w');
  for (const part of [header, array.data]) {
    const step = pieceBytes || part.byteLength;
    for (let at = 0; at < part.byteLength; at += step) writeSync(fd, part, at, Math.min(step, part.byteLength - at));
  }
  closeSync(fd);
}
const files = { large: join(dir, 'whole.npy'), small: join(dir, 'pieces.npy') };
writeFile(files.large, 0);
writeFile(files.small, 64 * 1024);
/**
 * What each round measures: both files with the default mapped buffers, and with
 * `--counted` the large one again with `TENSIO_MMAP_COUNTED=1` (Node-API buffers V8 counts
 * at their length; read at every map, so the two kinds interleave in one process), and
 * with `--no-small` without the small one.
 */
const variants: { label: string; path: string; counted: boolean }[] = [
  { label: 'large', path: files.large, counted: false },
  ...(argv.includes('--no-small') ? [] : [{ label: 'small', path: files.small, counted: false }]),
  ...(argv.includes('--counted') ? [{ label: 'large counted', path: files.large, counted: true }] : []),
];
const hot = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);

/** V8 collections seen (start and duration, ms on performance.now()'s clock). */
const collections: { start: number; duration: number }[] = [];
const observer = new PerformanceObserver((list) => { for (const entry of list.getEntries()) collections.push({ start: entry.startTime, duration: entry.duration }); });
/** Collection ms that started within [from, to). */
const gcWithin = (from: number, to: number) => collections.filter((entry) => entry.start >= from && entry.start < to).reduce((sum, entry) => sum + entry.duration, 0);
observer.observe({ entryTypes: ['gc'] });
/** PerformanceObserver delivers entries asynchronously: a turn of the loop flushes them. */
const flush = () => new Promise((resolve) => setImmediate(resolve));
const threadNs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ')[0]);
interface Phase { wall: number; main: number; faults: number }
const mark = () => ({ wall: performance.now(), main: threadNs(), faults: process.resourceUsage().minorPageFault });
const since = (from: Phase): Phase => {
  const now = mark();
  return { wall: now.wall - from.wall, main: (now.main - from.main) / 1e6, faults: now.faults - from.faults };
};

const samples = new Map<string, number[]>();
const record = (key: string, value: number) => samples.set(key, [...(samples.get(key) ?? []), value]);
let sink = 0;
const PY = `
import sys, time, resource, numpy as np
path = sys.argv[1]
def mark(): return time.perf_counter_ns(), time.thread_time_ns(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def since(m):
    n = mark(); return [(n[0]-m[0])/1e6, (n[1]-m[1])/1e6, n[2]-m[2]]
np.add.reduce(np.ones(1024))
m = mark(); a = np.load(path, mmap_mode='r'); load = since(m)
v = np.asarray(a).view(np.float64)
m = mark(); s = np.add.reduce(v); first = since(m)
m = mark(); s += np.add.reduce(v); second = since(m)
print(*load, *first, *second)
`;

for (let round = 0; round <= rounds; round++) {
  for (const { label, path, counted } of variants) {
    if (counted) process.env.TENSIO_MMAP_COUNTED = '1';
    else delete process.env.TENSIO_MMAP_COUNTED;
    gc();
    await flush();
    await flush();
    const total = mark();
    let at = mark();
    const reader = await openTensorFile(path);
    const open = since(at);
    at = mark();
    const tensor = await reader.read(reader.tensors[0]!.name);
    const read = since(at);
    const readEnd = performance.now();
    delete process.env.TENSIO_MMAP_COUNTED;
    at = mark();
    sink += sumFloat64Unrolled(tensor.data);
    const first = since(at);
    at = mark();
    sink += sumFloat64Unrolled(tensor.data);
    const second = since(at);
    at = mark();
    await reader.close();
    const close = since(at);
    const all = since(total);
    const end = performance.now();
    await flush();
    const readGc = gcWithin(total.wall, readEnd);
    const restGc = gcWithin(readEnd, end);
    at = mark();
    sink += sumFloat64Unrolled(hot);
    const heap = since(at);
    if (round === 0) continue;
    const put = (phase: string, value: Phase) => {
      record(`${label} ${phase} wall`, value.wall);
      record(`${label} ${phase} js`, value.main);
      record(`${label} ${phase} faults`, value.faults);
    };
    put('open', open);
    put('read', read);
    put('sum 1', first);
    put('sum 2', second);
    put('close', close);
    put('all', all);
    put('heap sum', heap);
    record(`${label} gc in read`, readGc);
    record(`${label} gc after`, restGc);
    if (python && !counted) {
      const out = execFileSync(python, ['-c', PY, path], { encoding: 'latin1' }).trim().split(/\s+/).map(Number);
      const names = ['np load', 'np sum 1', 'np sum 2'];
      names.forEach((name, index) => {
        record(`${label} ${name} wall`, out[3 * index]!);
        record(`${label} ${name} js`, out[3 * index + 1]!);
        record(`${label} ${name} faults`, out[3 * index + 2]!);
      });
    }
  }
}
observer.disconnect();
rmSync(dir, { recursive: true, force: true });
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(`${sizeMiB} MiB .npy, ${rounds} rounds (+1 warm-up), medians, load ${readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ')}`);
const phases = ['open', 'read', 'sum 1', 'sum 2', 'close', 'all', 'heap sum', ...(python ? ['np load', 'np sum 1', 'np sum 2'] : [])];
for (const { label, counted } of variants) {
  console.log(`${label} folios: phase, wall ms, thread CPU ms, faults`);
  for (const phase of counted ? phases.filter((phase) => !phase.startsWith('np ')) : phases) {
    const get = (what: string) => median(samples.get(`${label} ${phase} ${what}`)!);
    console.log(`  ${phase.padEnd(9)} ${get('wall').toFixed(2).padStart(8)} ${get('js').toFixed(2).padStart(8)} ${String(get('faults')).padStart(6)}`);
  }
  console.log(`  gc ms from open to read's end ${median(samples.get(`${label} gc in read`)!).toFixed(2)}, from there to close's end ${median(samples.get(`${label} gc after`)!).toFixed(2)}`);
}
if (sink === 42) console.log('');
