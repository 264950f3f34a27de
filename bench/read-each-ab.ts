/**
 * Read-ahead and fault-ahead, A/B in one process (`node --expose-gc --import tsx
 * bench/read-each-ab.ts [--size-mib 256] [--rounds 5] [--tensors 64] [--npy]`): every round runs
 * each contender once, in rotating order, over two cached safetensors files of the same
 * tensors: one written in one piece (its page cache in large folios on ext4 with large
 * folios: a fault maps 2 MiB) and one written in 64 KiB pieces (small folios, as
 * `torch.save` leaves a `.pt`: a fault maps 64 KiB). Every contender reads every tensor
 * and sums every byte as float64 words (bench/lib/sum.ts, the "+ sum" of bench/mmap.ts),
 * keeping the tensors until the end. Printed: medians of wall time, process CPU time
 * (every thread), the JavaScript thread's own CPU time (`/proc/self/task/<pid>/schedstat`)
 * and minor page faults. Contenders:
 * - `read mapped`: `read()` (mapped views, the default: populated since session 28 while the worker keeps up);
 * - `read lazy`: `read({ populate: false })`, the sum faults the pages in (the default before);
 * - `read populate`: `read({ populate: true })`: a libuv worker populates each mapping;
 * - `readEach mapped`: `readEach` (mapped, populated ahead, 64 MiB bound);
 * - `readEach copy`: `readEach({ copy: true })` (pread into huge-page buffers ahead);
 * - `read copy`: `read({ copy: true })` (synchronous reads, the old copy path);
 * - `populate only`: map every tensor and await its population, no sum (the worker's cost:
 *   CPU minus the JS thread's; faults taken by populating);
 * - `wasm` / `wasm populate`: `readAllIntoWasmMemory` (without / with `populate`) and a
 *   WebAssembly SIMD sum in place (bench/lib/sum.ts).
 * `--only a,b`: those contenders alone.
 * `--npy`: the two files are one-tensor `.npy` files instead (issue 15's `.npy` row: one
 * big tensor, so read-ahead has no next tensor and only fault-ahead within it can help).
 * Not part of `npm run bench`: a focused measurement for bench/README.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryMapPopulateAvailable, memoryMapStatus, openTensorFile, populateMappedView, readEach, type Tensor } from '../src/index.js';
import { readAllIntoWasmMemory, type WasmMemoryLike } from '../src/io/wasm-io.js';
import { abRounds, abTable, AbArgs, loadLine, requireGc } from './lib/ab-rounds.js';
import { makeFloat32Tensor, makeMixedTensors, npyFixtureHeader, safetensorsFixtureHeader, writeFolioPair } from './lib/fixtures.js';
import { sumFloat64Unrolled, wasmSumInPlace } from './lib/sum.js';

const MiB = 2 ** 20;
const args = new AbArgs();
const sizeMiB = args.number('--size-mib', 256);
const rounds = args.number('--rounds', 5);
const npy = args.flag('--npy');
const tensorsAsked = args.number('--tensors', 64);
const only = args.list('--only');
args.rest();
const tensorCount = npy ? 1 : tensorsAsked;
requireGc();
const status = memoryMapStatus();
if (!status.enabled || !memoryMapPopulateAvailable()) throw new Error(`mapping or populate is off: ${status.reason}`);

const dir = mkdtempSync(join(tmpdir(), 'tensio-read-each-ab-'));
const tensors = npy ? [makeFloat32Tensor(sizeMiB * MiB, 'array')] : makeMixedTensors(sizeMiB * MiB, tensorCount);
const header = npy ? npyFixtureHeader('<f4', tensors[0]!.shape) : safetensorsFixtureHeader(tensors).header;
const files = writeFolioPair(dir, npy ? 'npy' : 'safetensors', [header, ...tensors.map((tensor) => tensor.data)]);
const totalBytes = tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
tensors.length = 0;

let sink = 0;

type Run = (path: string, keep: unknown[]) => Promise<void>;
const contenders: Record<string, Run> = {
  'read mapped': async (path, keep) => readAll(path, keep, {}),
  'read lazy': async (path, keep) => readAll(path, keep, { populate: false }),
  'read populate': async (path, keep) => readAll(path, keep, { populate: true }),
  'readEach mapped': async (path, keep) => {
    await using reader = await openTensorFile(path);
    for await (const { tensor } of readEach(reader)) summed(tensor, keep);
  },
  'readEach copy': async (path, keep) => {
    await using reader = await openTensorFile(path);
    for await (const { tensor } of readEach(reader, { copy: true })) summed(tensor, keep);
  },
  'read copy': async (path, keep) => readAll(path, keep, { copy: true }),
  'wasm': async (path, keep) => intoWasm(path, keep, false),
  'wasm populate': async (path, keep) => intoWasm(path, keep, true),
  'populate only': async (path, keep) => {
    await using reader = await openTensorFile(path);
    const jobs = [];
    for (const info of reader.tensors) {
      const tensor = await reader.read(info.name);
      keep.push(tensor);
      jobs.push(populateMappedView(tensor.data, path));
    }
    await Promise.all(jobs);
  },
};

async function intoWasm(path: string, keep: unknown[], populate: boolean): Promise<void> {
  const api = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemoryLike } }).WebAssembly;
  const memory = new api.Memory({ initial: 1, maximum: 65536 });
  const sum = wasmSumInPlace(memory);
  await using reader = await openTensorFile(path);
  const placed = await readAllIntoWasmMemory(reader, reader.tensors.map((info) => info.name), memory, { populate });
  for (const tensor of placed) sink += sum(tensor.pointer, tensor.byteLength);
  keep.push({ release: () => { for (const tensor of placed) tensor.release(); } });
}

function summed(tensor: Tensor, keep: unknown[]): void {
  sink += sumFloat64Unrolled(tensor.data);
  keep.push(tensor);
}

async function readAll(path: string, keep: unknown[], options: { populate?: boolean; copy?: boolean }): Promise<void> {
  await using reader = await openTensorFile(path);
  for (const info of reader.tensors) summed(await reader.read(info.name, options), keep);
}

const samples = await abRounds({
  names: Object.keys(contenders).filter((name) => !only || only.has(name)),
  rounds,
  groups: Object.keys(files),
  run: async (name, label) => {
    const keep: unknown[] = [];
    await contenders[name]!(files[label as keyof typeof files], keep);
    return keep;
  },
  // Every contender keeps what it read until its timing ends; released untimed.
  after: (_name, _label, keep) => {
    for (const kept of keep) (kept as { release?: () => void }).release?.();
    keep.length = 0;
  },
});
rmSync(dir, { recursive: true, force: true });

console.log(`${sizeMiB} MiB in ${tensorCount} tensors, ${rounds} rounds (+1 warm-up), medians; GB/s = bytes / wall; ${loadLine()}`);
for (const line of abTable(samples, totalBytes)) console.log(line);
if (sink === 42) console.log('');
