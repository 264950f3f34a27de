/**
 * Memory-mapped reads (`npm run bench -- --only mmap`; `--size-mib 64` for a quick run):
 * `read()` of every tensor mapped (the default with the addon), with `copy: true`, and
 * through a source opened with `map: false` (what `TENSIO_NO_MMAP=1` gives), and
 * `stream()` mapped and copied (reused buffer), against raw `fs` reads and the Python
 * loaders on the same cached files, side by side in the same rounds:
 *
 * - safetensors (64 mixed f32/bf16/f16 tensors): `safetensors.numpy.load_file` (copies),
 *   `safetensors.safe_open` (its mmap path, torch framework when torch is there);
 * - `.npy` (one float32 array): `np.load`, `np.load(mmap_mode='r')`;
 * - `.pt` (the same state dict saved by `torch.save`): `torch.load`, `torch.load(mmap=True)`.
 *
 * Every loader is run twice: as is (lazy mappings are nearly free: nothing is read), and
 * "+ sum", where every tensor's bytes are also summed as float64 words, so that lazy
 * mapping is not counted as free. What touches the bytes: on tensio's and the raw
 * side, `sumFloat64Unrolled` (bench/lib/sum.ts: four accumulators over a
 * Float64Array, the fastest of the JS kernels; eight until session 27); on the Python side `np.add.reduce` over a
 * float64 view (SIMD, pairwise). A first table times those kernels alone on a hot
 * in-memory buffer (with the one-accumulator loop and a WebAssembly SIMD kernel that
 * must copy into its own memory), so the "+ sum" rows can be read knowing what the
 * reduction itself costs each side. The ratio columns are tensio / baseline.
 *
 * One more tensio contender, "into wasm": `readAllIntoWasmMemory` (tensio/io) of every
 * tensor into a WebAssembly memory (one grow for all) (the file's pages mapped into it, no copy), and "into
 * wasm + wasm sum" sums them there in place with a WebAssembly SIMD kernel
 * (`wasmSumInPlace`). It stands beside the plain-JS "+ sum" rows, never instead of them:
 * both figures are printed against the same peers, labelled.
 *
 * Two more "+ sum" contenders use tensio's read-ahead (`readEach`, src/model/read-each.ts),
 * a public feature for consumers that touch every byte: "readEach mapped + sum" maps each
 * tensor and has a libuv worker populate its page tables (MADV_POPULATE_READ) ahead of
 * the JS sum; "readEach copy + sum" copies each tensor into fresh huge-page buffers with
 * positional reads on libuv's threads ahead of the sum. Both read every byte and sum
 * every byte as the other rows do, with at most 64 MiB read ahead; unlike the Python side
 * they use a second thread (the machine's other core) for the loading. The old rows stay.
 *
 * Two fault-ahead contenders (session 25) stand beside those: "read populate + sum"
 * (`read({ populate: true })`) and "into wasm populate + wasm sum"
 * (`readAllIntoWasmMemory({ populate: true })`): a libuv worker populates each mapping
 * (MADV_POPULATE_READ) and touches every page, from the mapping's end back, while the
 * consumer sums from its start, so a single 1 GiB `.npy` is split between two threads.
 * Same bytes, same sums, same timers as the rows without it, which stay. Since session 28
 * `read()` populates by default (bounded by the worker's backlog), so "read mapped" is
 * that default and "read lazy + sum" (`read({ populate: false })`) is the old default.
 *
 * The two sides of a "+ sum" do the same work on the same bytes: every tensor (per
 * tensor, never the file as one range) is viewed as float64 words from its first
 * 8-aligned byte, whatever its dtype, and summed with float64 accumulation. Only the
 * kernel differs: numpy's pairwise `add.reduce` (SIMD, 8 accumulators per block of 128),
 * the JS loop's 4 scalar accumulators, the wasm kernel's 8 f64x2 vectors (16 lanes). No
 * side sums float32 values (where numpy would use float32 pairwise accumulation). Both
 * timers span open, load, sum (and tensio's `close()`); neither includes the unmaps
 * (Python drops its arrays after the timer, tensio's finalizers run in `settle()`). Apart
 * from "readEach mapped", no side asks for MAP_POPULATE or madvise: the pages come in by
 * first-touch faults. Those
 * cost the same on both sides as long as each mapping's address agrees with its file
 * offset modulo 2 MiB (so the kernel maps the 2 MiB page-cache folios that a freshly
 * written file has on Linux 6.18/ext4 with one entry each): `mmap(NULL)` picks such an
 * address for numpy, torch and tensio's `map()`; `readIntoWasmMemory` places tensors of
 * 4 MiB or more so (src/model/wasm-memory.ts); a misaligned mapping faults every 64 KiB
 * (fault-around) instead of every 2 MiB.
 *
 * Before every contender, settle() also warms the free memory (dataBytes + 64 MiB,
 * untimed; bench/lib/warm-memory.ts): on this VM memory freed two seconds earlier is
 * handed back to the host and costs a host fault per 4 KiB page when touched again, so
 * in a fixed order the first allocating contender after a mapped one ("read copy" after
 * "read mapped") paid them every round and the next ("read unmapped") never did: the same
 * code path at 0.60 and 5.78 GB/s (issue 15, session 28). `TENSIO_BENCH_NO_WARM=1` turns
 * it off.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { formatMissing, logThroughputs, throughput, type BenchContext } from './lib/context.js';
import { makeFloat32Tensor, makeMixedTensors, npyFixtureHeader, safetensorsFixtureHeader, writeFixtureFile } from './lib/fixtures.js';
import { rawReadFresh, rawReadReused, rawReadReusedWithHeader, rawReusedBuffer } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { sumFloat64Scalar, sumFloat64Unrolled, sumFloat64Unrolled8, sumFloat64Wasm, wasmSumInPlace } from './lib/sum.js';
import { readAllIntoWasmMemory, type WasmMemoryLike, type WasmTensor } from '../src/io/wasm-io.js';
import { COUNTED_MMAP_ENV, loadedAddon } from '../src/storage/memory-map.js';
import { collectGarbage, runRounds, timeIt, type Contender } from './lib/timing.js';
import { NO_WARM_ENV, warmFreeMemory, warmUpDisabled } from './lib/warm-memory.js';
import type { BenchRow } from './lib/types.js';

const FORMAT = 'mmap';
const MiB = 2 ** 20;

/**
 * Untimed before every repetition: a full collection, then two turns of the event loop,
 * because the unmaps of the mappings the previous contender dropped run as finalizers
 * from the loop (`SetImmediate`). Without the turns, the next contender's first await
 * (a file handle's close) would pay for them.
 */
async function settle(): Promise<void> {
  delete process.env[COUNTED_MMAP_ENV];
  collectGarbage();
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  if (warmBytes > 0) {
    // Same free-memory state before every contender (bench/lib/warm-memory.ts says why: issue 15's 0.60 vs 5.78 GB/s).
    warmUps.push(warmFreeMemory(warmBytes).milliseconds);
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Bytes settle() warms before each contender of the file being measured (0: none), and how long each warm-up took. */
let warmBytes = 0;
const warmUps: number[] = [];

/** settle(), then the addon makes Node-API (counted) buffers until the next settle() (read at every map). */
async function settleCounted(): Promise<void> {
  await settle();
  process.env[COUNTED_MMAP_ENV] = '1';
}

/** The reduction of the "+ sum" contenders (see bench/lib/sum.ts and the kernel table). */
const sumFloat64 = sumFloat64Unrolled;

/** Keeps the sums alive so the loops cannot be optimised away. */
let sink = 0;

/** What the "+ sum" raw contenders do with every piece they read (timed with the read). */
function summing(summed: boolean): ((bytes: Uint8Array) => void) | undefined {
  return summed ? (bytes) => { sink += sumFloat64(bytes); } : undefined;
}

/** How `read()` gets its bytes: `mapped` (default), `copy: true`, or a source opened with `map: false` (as with TENSIO_NO_MMAP=1). */
type ReadMode = 'mapped' | 'copy' | 'unmapped';

async function tensioRead(context: BenchContext, path: string, expected: number, options: { mode: ReadMode; summed: boolean; populate?: boolean }): Promise<number> {
  const kept: unknown[] = [];
  let bytes = 0;
  const seconds = await timeIt(async () => {
    const source = options.mode === 'unmapped' ? await context.tensio.fileSource(path, { map: false }) : undefined;
    const reader = await context.tensio.openTensorFile(source ?? path);
    try {
      for (const info of reader.tensors) {
        const tensor = await reader.read(info.name, { copy: options.mode === 'copy', ...(options.populate !== undefined ? { populate: options.populate } : {}) });
        if (options.summed) sink += sumFloat64(tensor.data);
        bytes += tensor.data.byteLength;
        kept.push(tensor);
      }
    } finally {
      await reader.close();
      await source?.close();
    }
  });
  kept.length = 0;
  if (bytes !== expected) throw new Error(`read ${bytes} bytes, expected ${expected}`);
  return seconds;
}

/**
 * `readEach` (the library's read-ahead, src/model/read-each.ts) over every tensor, each
 * summed as it is handed out and kept, as `read()` contenders keep theirs. `copy: false`:
 * mapped views whose page tables a libuv worker populates ahead of the sum
 * (MADV_POPULATE_READ); `copy: true`: copies into fresh (huge-page) buffers, read ahead on
 * libuv's threads. Both within the default 64 MiB read-ahead bound.
 */
async function tensioReadEach(context: BenchContext, path: string, expected: number, copy: boolean): Promise<number> {
  const kept: unknown[] = [];
  let bytes = 0;
  const seconds = await timeIt(async () => {
    const reader = await context.tensio.openTensorFile(path);
    try {
      for await (const { tensor } of context.tensio.readEach(reader, { copy })) {
        sink += sumFloat64(tensor.data);
        bytes += tensor.data.byteLength;
        kept.push(tensor);
      }
    } finally {
      await reader.close();
    }
  });
  kept.length = 0;
  if (bytes !== expected) throw new Error(`read ${bytes} bytes, expected ${expected}`);
  return seconds;
}

/** A fresh WebAssembly memory (the project's TypeScript settings carry no WebAssembly types). */
function newWasmMemory(): WasmMemoryLike {
  const api = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemoryLike } }).WebAssembly;
  return new api.Memory({ initial: 1, maximum: 65536 });
}

/**
 * `readAllIntoWasmMemory` of every tensor into one fresh WebAssembly memory (one grow;
 * the file's pages mapped in place with the addon, copied in without it), summed in place with the
 * WebAssembly SIMD kernel when `summed`. The tensors are released after the timing, as
 * the other contenders' tensors are dropped after theirs.
 */
async function tensioIntoWasm(context: BenchContext, path: string, expected: number, summed: boolean, populate = false): Promise<number> {
  const placed: WasmTensor[] = [];
  let bytes = 0;
  const seconds = await timeIt(async () => {
    const memory = newWasmMemory();
    const sum = summed ? wasmSumInPlace(memory) : undefined;
    const reader = await context.tensio.openTensorFile(path);
    try {
      // One grow for the whole file: V8 starts collections over every grow (src/model/wasm-memory.ts).
      placed.push(...await readAllIntoWasmMemory(reader, reader.tensors.map((info) => info.name), memory, populate ? { populate: true } : {}));
      for (const tensor of placed) {
        if (sum) sink += sum(tensor.pointer, tensor.byteLength);
        bytes += tensor.byteLength;
      }
    } finally {
      await reader.close();
    }
  });
  for (const tensor of placed) tensor.release();
  if (bytes !== expected) throw new Error(`placed ${bytes} bytes, expected ${expected}`);
  return seconds;
}

/**
 * `stream()` of every tensor with a reused buffer. `copy` undefined: what a caller gets
 * without the option (session 26: reads into two reused buffers, the next chunk read on
 * libuv's thread pool while this one is summed); `true`: the same, asked for; `false`:
 * views of the mapping (the old default). `readAhead: false`: one buffer, each chunk read
 * when asked for (the copy path before session 26).
 */
async function tensioStream(context: BenchContext, path: string, expected: number, options: { copy?: boolean; readAhead?: boolean; summed: boolean }): Promise<number> {
  let bytes = 0;
  const streamOptions = { reuseBuffer: true, ...(options.copy !== undefined ? { copy: options.copy } : {}), ...(options.readAhead === false ? { readAhead: false } : {}) };
  const seconds = await timeIt(async () => {
    const reader = await context.tensio.openTensorFile(path);
    try {
      for (const info of reader.tensors) {
        for await (const chunk of reader.stream(info.name, streamOptions)) {
          if (options.summed) sink += sumFloat64(chunk);
          bytes += chunk.byteLength;
        }
      }
    } finally {
      await reader.close();
    }
  });
  if (bytes !== expected) throw new Error(`streamed ${bytes} bytes, expected ${expected}`);
  return seconds;
}

/** The spans of every tensor of a file as tensio lists them (absolute offsets), for the raw baselines. */
async function tensorSpans(context: BenchContext, path: string): Promise<{ offset: number; length: number }[]> {
  const reader = await context.tensio.openTensorFile(path);
  try {
    // The raw baseline reads as many bytes, tensor by tensor, laid end to end after the header.
    const spans: { offset: number; length: number }[] = [];
    const total = reader.tensors.reduce((sum, info) => sum + info.byteLength, 0);
    let at = Math.max(0, statSync(path).size - total);
    for (const info of reader.tensors) {
      spans.push({ offset: at, length: info.byteLength });
      at += info.byteLength;
    }
    return spans;
  } finally {
    await reader.close();
  }
}

interface FileCase {
  label: string;
  path: string;
  dataBytes: number;
  spans: { offset: number; length: number }[];
  peers: { name: string; op: string; lazy: boolean }[];
  goals: Record<string, number>;
}

/**
 * Runs the mmap benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runMmapBench(context);
 * ```
 */
export async function runMmapBench(context: BenchContext): Promise<BenchRow[]> {
  const missing = formatMissing(context.tensio, 'safetensors', ['open']);
  if (missing) return [{ format: FORMAT, operation: 'all', unit: 'GB/s', note: `skipped: ${missing}` }];
  const status = context.tensio.memoryMapStatus();
  const { dir, log, peers } = context;
  log(`mmap: ${status.enabled ? 'on' : 'OFF'} (${status.reason})`);
  const rows: BenchRow[] = [];
  if (!status.enabled) rows.push({ format: FORMAT, operation: 'status', unit: 'GB/s', note: `mapping is off, so "mapped" rows measure the read path: ${status.reason}` });
  // An addon built before populate() existed loads fine but cannot populate: "readEach mapped" then only maps.
  if (status.enabled && !context.tensio.memoryMapPopulateAvailable()) {
    log('mmap: populate OFF (the addon predates it: run `npm run build:native`)');
    rows.push({ format: FORMAT, operation: 'status', unit: 'GB/s', note: 'the native addon predates populate(): "readEach mapped" rows map without populating; rebuild with npm run build:native' });
  } else if (status.enabled && !(loadedAddon()?.populateProbe)) {
    // An addon of session 24: it populates front to back without touching, and cannot populate wasm mappings.
    log('mmap: the addon predates fault-ahead from the end and into wasm memory: run `npm run build:native`');
    rows.push({ format: FORMAT, operation: 'status', unit: 'GB/s', note: 'the native addon predates session 25\'s populate (from the end back, pages touched, wasm mappings): "populate" rows measure the old one or none; rebuild with npm run build:native' });
  }
  log(`mmap: fault-ahead ${status.populate ?? 'unknown'} (${status.populateReason ?? 'status predates it'})`);
  // Session 29: mapped buffers are left out of V8's external-memory count ('charged') by default; TENSIO_MMAP_COUNTED=1 gives the Node-API kind V8 counts.
  log(`mmap: mapped buffers ${status.mappingAccounting ?? 'counted'} in V8's external memory by default; ${COUNTED_MMAP_ENV}=1 for the counted kind`);
  if (status.enabled && status.mappingAccounting !== 'charged') {
    rows.push({ format: FORMAT, operation: 'status', unit: 'GB/s', note: `this addon makes only counted buffers (built before session 29, for another Node major, or without its C++ part): "read mapped" and "read mapped counted" measure the same kind; rebuild with npm run build:native` });
  }
  const totalBytes = context.sizeMiB * MiB;
  rows.push(...await sumKernelRows(context, Math.min(totalBytes, 64 * MiB)));

  // Inputs: a safetensors file, an .npy and (with torch) a .pt of the same state dict.
  const tensors = makeMixedTensors(totalBytes, 64);
  const { header, offsets } = safetensorsFixtureHeader(tensors);
  const stPath = join(dir, 'mmap-source.safetensors');
  writeFixtureFile(stPath, [header, ...tensors.map((tensor) => tensor.data)]);
  const stBytes = tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
  const array = makeFloat32Tensor(totalBytes, 'array');
  const npyHeader = npyFixtureHeader('<f4', array.shape);
  const npyPath = join(dir, 'mmap-source.npy');
  writeFixtureFile(npyPath, [npyHeader, array.data]);
  const cases: FileCase[] = [
    {
      label: 'safetensors', path: stPath, dataBytes: stBytes,
      spans: tensors.map((tensor, index) => ({ offset: offsets[index]!, length: tensor.data.byteLength })),
      peers: [{ name: 'st.numpy.load_file', op: 'mmap.st.numpy.load_file', lazy: false }, { name: 'st.safe_open', op: 'mmap.st.safe_open', lazy: true }],
      goals: { stream: 1 },
    },
    {
      label: 'npy', path: npyPath, dataBytes: array.data.byteLength,
      spans: [{ offset: npyHeader.byteLength, length: array.data.byteLength }],
      peers: [{ name: 'np.load', op: 'mmap.np.load', lazy: false }, { name: "np.load(mmap_mode='r')", op: 'mmap.np.load_mmap', lazy: true }],
      goals: { 'np.load': 1, "np.load(mmap_mode='r')": 1 },
    },
  ];
  tensors.length = 0;
  array.data = new Uint8Array(0);
  if (peers && peers.versions.torch) {
    const ptPath = join(dir, 'mmap-source.pt');
    await peers.call('load_safetensors_source', { path: stPath });
    await peers.call('make_pt', { path: ptPath });
    await peers.call('drop');
    const spans = await tensorSpans(context, ptPath);
    cases.push({
      label: 'pytorch', path: ptPath, dataBytes: spans.reduce((sum, span) => sum + span.length, 0), spans,
      peers: [{ name: 'torch.load', op: 'mmap.torch.load', lazy: false }, { name: 'torch.load(mmap=True)', op: 'mmap.torch.load_mmap', lazy: true }],
      goals: { 'torch.load': 1.5 },
    });
  } else {
    rows.push({ format: FORMAT, operation: '.pt', unit: 'GB/s', note: `skipped: no torch in the oracle (${context.peersReason ?? 'torch missing'})` });
  }

  const rounds = context.reps > 1 ? context.reps + 1 : 1;
  const reused = rawReusedBuffer();
  for (const file of cases) {
    log(`mmap ${file.label}: ${(file.dataBytes / MiB).toFixed(0)} MiB of tensor data in ${file.spans.length} tensors, file ${file.path} (${statSync(file.path).size} bytes)`);
    const contenders: Contender[] = [];
    for (const summed of [false, true]) {
      const tag = summed ? ' + sum' : '';
      contenders.push(
        { name: `raw fresh${tag}`, before: settle, run: () => rawReadFresh(file.path, file.spans, summing(summed)) },
        { name: `raw reused${tag}`, before: settle, run: () => rawReadReused(file.path, file.spans, reused, summing(summed)) },
        { name: `read mapped${tag}`, before: settle, run: () => tensioRead(context, file.path, file.dataBytes, { mode: 'mapped', summed }) },
        { name: `read copy${tag}`, before: settle, run: () => tensioRead(context, file.path, file.dataBytes, { mode: 'copy', summed }) },
        { name: `read unmapped${tag}`, before: settle, run: () => tensioRead(context, file.path, file.dataBytes, { mode: 'unmapped', summed }) },
        { name: `stream mapped${tag}`, before: settle, run: () => tensioStream(context, file.path, file.dataBytes, { copy: false, summed }) },
        { name: `stream copy${tag}`, before: settle, run: () => tensioStream(context, file.path, file.dataBytes, { copy: true, summed }) },
        // Session 26: the default (no copy option: reads with read-ahead), and the one-buffer copy path that was "stream copy" before.
        { name: `stream default${tag}`, before: settle, run: () => tensioStream(context, file.path, file.dataBytes, { summed }) },
        { name: `stream copy one buffer${tag}`, before: settle, run: () => tensioStream(context, file.path, file.dataBytes, { copy: true, readAhead: false, summed }) },
        { name: `into wasm${summed ? ' + wasm sum' : ''}`, before: settle, run: () => tensioIntoWasm(context, file.path, file.dataBytes, summed) },
      );
      // The raw side with the work a reader does before the bytes: open the file and parse the safetensors header inside the timer.
      if (file.label === 'safetensors') contenders.push({ name: `raw reused + header${tag}`, before: settle, run: () => rawReadReusedWithHeader(file.path, reused, summing(summed)) });
      if (summed) {
        contenders.push(
          { name: 'readEach mapped + sum', before: settle, run: () => tensioReadEach(context, file.path, file.dataBytes, false) },
          { name: 'readEach copy + sum', before: settle, run: () => tensioReadEach(context, file.path, file.dataBytes, true) },
          // Fault-ahead of each mapping while it is summed (session 25): the same reads and sums as the rows without it.
          { name: 'read populate + sum', before: settle, run: () => tensioRead(context, file.path, file.dataBytes, { mode: 'mapped', summed, populate: true }) },
          // Session 28: read() populates by default, so "read mapped" is that default; this is the lazy view (the default before).
          { name: 'read lazy + sum', before: settle, run: () => tensioRead(context, file.path, file.dataBytes, { mode: 'mapped', summed, populate: false }) },
          // Session 29: the same reads and sums with the Node-API buffers V8 counts at their length (TENSIO_MMAP_COUNTED=1; the default before).
          { name: 'read mapped counted + sum', before: settleCounted, run: () => tensioRead(context, file.path, file.dataBytes, { mode: 'mapped', summed }) },
          { name: 'into wasm populate + wasm sum', before: settle, run: () => tensioIntoWasm(context, file.path, file.dataBytes, summed, true) },
        );
      }
      if (peers) for (const peer of file.peers) contenders.push({ name: `${peer.name}${tag}`, before: settle, run: () => peers.time(peer.op, file.path, { sum: summed }) });
    }
    // Room for the largest contender's allocations (a copy of every tensor, a peer's arrays) plus slack.
    warmBytes = warmUpDisabled() ? 0 : file.dataBytes + 64 * MiB;
    warmUps.length = 0;
    const results = await runRounds(contenders, rounds);
    warmBytes = 0;
    if (warmUps.length > 0) {
      const sorted = [...warmUps].sort((a, b) => a - b);
      log(`mmap ${file.label}: free memory warmed (${((file.dataBytes + 64 * MiB) / MiB).toFixed(0)} MiB, untimed) before each of ${sorted.length} runs: median ${sorted[sorted.length >> 1]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms (slow ones paid the host's faults the contender would have)`);
    } else log(`mmap ${file.label}: no warm-up before the contenders (${NO_WARM_ENV} set): figures depend on the contender order`);
    logThroughputs(context, `mmap ${file.label}`, results, file.dataBytes);
    const figure = (name: string) => throughput(results.get(name), file.dataBytes);
    const row = (tensioName: string, baselineName: string, goal?: number, note?: string) => {
      const ours = figure(tensioName);
      const theirs = figure(baselineName);
      rows.push(compareRow(FORMAT, `${file.label}: ${tensioName} vs ${baselineName}`, ours.median, theirs.median, baselineName, goal, ours.error ?? theirs.error ?? note));
    };
    for (const tag of ['', ' + sum']) {
      row(`read mapped${tag}`, `raw fresh${tag}`);
      row(`read copy${tag}`, `raw fresh${tag}`);
      row(`read unmapped${tag}`, `raw fresh${tag}`);
      row(`read mapped${tag}`, `raw reused${tag}`);
      row(`stream mapped${tag}`, `raw reused${tag}`, undefined, 'stream(name, { reuseBuffer: true, copy: false }): views of the mapping (the default before session 26)');
      row(`stream copy${tag}`, `raw reused${tag}`, undefined, 'copy: true: two reused buffers, the next chunk read on the thread pool');
      // The default a caller gets (issue 15's goal): reads into reused buffers, read ahead on the pool.
      row(`stream default${tag}`, `raw reused${tag}`, tag ? file.goals.stream : undefined, 'stream(name, { reuseBuffer: true }): reads into two reused buffers, the next chunk read on the thread pool (2 threads)');
      row(`stream copy one buffer${tag}`, `raw reused${tag}`, undefined, 'copy: true, readAhead: false: one buffer, read when asked for (one thread)');
      if (file.label === 'safetensors') row(`stream default${tag}`, `raw reused + header${tag}`, tag ? file.goals.stream : undefined, 'raw side also opens the file and parses the header inside its timer, as the reader does');
      for (const peer of file.peers) {
        if (!peers) continue;
        const goal = tag ? file.goals[peer.name] : undefined;
        row(`read mapped${tag}`, `${peer.name}${tag}`, goal, peer.lazy && !tag ? 'both lazy: nothing is read, this compares bookkeeping' : undefined);
        if (!peer.lazy) row(`read copy${tag}`, `${peer.name}${tag}`);
        // The same goal, with a WebAssembly SIMD sum over the tensors mapped into wasm memory (numpy sums with SIMD too).
        row(tag ? 'into wasm + wasm sum' : 'into wasm', `${peer.name}${tag}`, goal, tag ? 'tensio side: readAllIntoWasmMemory + WebAssembly SIMD sum (f64x2 x 8) in place' : 'into wasm: pages mapped, nothing read yet');
      }
    }
    row('into wasm + wasm sum', 'read mapped + sum', undefined, 'the same mapped bytes summed by WebAssembly SIMD vs the plain JS loop');
    // The library's read-ahead (a second thread populates or copies ahead of the sum): same bytes, same JS sum.
    const aheadNote = { mapped: 'tensio side: readEach, mappings populated ahead on a libuv worker (2 threads), JS sum', copy: 'tensio side: readEach copy, pread into huge-page buffers ahead on libuv threads (2+ threads), JS sum' };
    for (const [kind, note] of Object.entries(aheadNote)) {
      const name = `readEach ${kind} + sum`;
      row(name, 'read mapped + sum', undefined, note);
      row(name, 'raw fresh + sum', undefined, note);
      for (const peer of file.peers) if (peers) row(name, `${peer.name} + sum`, file.goals[peer.name], note);
    }
    // Fault-ahead (a libuv worker populates and touches each mapping from its end back while the consumer sums from its start).
    const countedNote = 'tensio side: read() mapped with TENSIO_MMAP_COUNTED=1 (Node-API buffers V8 counts at their length: a collection per mapping over 64 MiB; the default before session 29), JS sum';
    row('read mapped counted + sum', 'read mapped + sum', undefined, countedNote);
    for (const peer of file.peers) if (peers) row('read mapped counted + sum', `${peer.name} + sum`, file.goals[peer.name], countedNote);
    const faultAheadNote = {
      'read populate + sum': 'tensio side: read({ populate: true }), a libuv worker populates each mapping from its end back (2 threads), JS sum',
      'read lazy + sum': 'tensio side: read({ populate: false }), the sum faults every page in on the JS thread (read()\'s default before session 28), JS sum',
      'into wasm populate + wasm sum': 'tensio side: readAllIntoWasmMemory({ populate: true }), a libuv worker populates from the end back (2 threads), WebAssembly SIMD sum in place',
    };
    for (const [name, note] of Object.entries(faultAheadNote)) {
      row(name, name.startsWith('read') ? 'read mapped + sum' : 'into wasm + wasm sum', undefined, note);
      for (const peer of file.peers) if (peers) row(name, `${peer.name} + sum`, file.goals[peer.name], note);
    }
    if (!peers) rows.push({ format: FORMAT, operation: `${file.label}: Python peers`, unit: 'GB/s', note: `skipped: ${context.peersReason ?? 'no oracle'}` });
  }
  if (sink === 42) log('');
  return rows;
}

/**
 * The reductions alone, on one hot in-memory buffer of `bytes`: the three JS kernels of
 * bench/lib/sum.ts against numpy's `add.reduce` (what the "+ sum" rows pay to touch the
 * bytes on each side, without any reading).
 */
async function sumKernelRows(context: BenchContext, bytes: number): Promise<BenchRow[]> {
  const buffer = Buffer.allocUnsafeSlow(bytes).fill(1);
  // The in-place kernel's bytes live in its WebAssembly memory (where readIntoWasmMemory puts tensors).
  const memory = newWasmMemory();
  const at = memory.grow(Math.ceil(bytes / 65536)) * 65536;
  new Uint8Array(memory.buffer, at, bytes).fill(1);
  const inPlace = wasmSumInPlace(memory);
  const kernels: [string, (data: Uint8Array) => number][] = [
    ['JS 4 accumulators (the "+ sum" kernel)', sumFloat64Unrolled],
    ['JS 8 accumulators (the "+ sum" kernel before session 27)', sumFloat64Unrolled8],
    ['JS 1 accumulator', sumFloat64Scalar],
    ['WebAssembly SIMD (copy in + f64x2)', sumFloat64Wasm],
    ['WebAssembly SIMD in place (f64x2 x 8)', () => inPlace(at, bytes)],
  ];
  const contenders: Contender[] = kernels.map(([name, kernel]) => ({ name, run: () => timeIt(() => { sink += kernel(buffer); }) }));
  const { peers } = context;
  if (peers) contenders.push({ name: 'np.add.reduce', run: () => peers.time('mmap.sum_kernel', '', { bytes }) });
  const results = await runRounds(contenders, context.reps > 1 ? context.reps + 1 : 1);
  logThroughputs(context, 'mmap sum kernels', results, bytes);
  const figure = (name: string) => throughput(results.get(name), bytes);
  const rows: BenchRow[] = [];
  const baseline = peers ? 'np.add.reduce' : 'JS 1 accumulator';
  for (const [name] of kernels) {
    if (name === baseline) continue;
    const ours = figure(name);
    const theirs = figure(baseline);
    rows.push(compareRow(FORMAT, `sum kernel (${(bytes / MiB).toFixed(0)} MiB in memory): ${name} vs ${baseline}`, ours.median, theirs.median, baseline, undefined, ours.error ?? theirs.error));
  }
  return rows;
}
