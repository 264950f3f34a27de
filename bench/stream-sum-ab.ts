/**
 * `stream()` + sum against raw reads into a reused buffer + the same sum, A/B in one
 * process (`node --expose-gc --import tsx bench/stream-sum-ab.ts [--size-mib 256]
 * [--rounds 5] [--tensors 64] [--only a,b]`): issue 15's safetensors row of bench/mmap.ts,
 * taken apart. Every round runs each contender once, in rotating order, over two cached
 * safetensors files of the same tensors: one written in one piece (page cache in large
 * folios: a mapping fault maps 2 MiB) and one written in 64 KiB pieces (small folios:
 * a fault maps 64 KiB). Every contender sums every byte of every tensor as float64
 * words with the same kernel (bench/lib/sum.ts `sumFloat64Unrolled`), 8 MiB at a time.
 * Printed: medians of wall time, process CPU (every thread), the JavaScript thread's own
 * CPU (`/proc/self/task/<pid>/schedstat`) and minor page faults. Contenders:
 * - `raw reused`: bench/mmap.ts's baseline: `readSync` into one reused 8 MiB buffer, the
 *   spans known before the timer (no open of the format, no header);
 * - `raw reused + header`: the same, plus opening the file and parsing the safetensors
 *   header inside the timer (what a reader has to do to know the spans);
 * - `open + close`: `openTensorFile` and `close()` alone (what `stream` pays beyond the bytes);
 * - `stream default`: `stream(name, { reuseBuffer: true })`, what a caller gets (session
 *   26: reads into two reused buffers, the next chunk on libuv's thread pool);
 * - `stream copy`: the same asked for with `copy: true`;
 * - `stream copy one buffer`: `copy: true, readAhead: false` (the copy path before session 26);
 * - `stream mapped`: `copy: false`, views of the mapping (the default before session 26);
 * - `stream mapped populate`: the same, each tensor's mapping populated from its end back
 *   on the addon's worker (`populateMappedView` on its first chunk) while it is summed;
 * - `read mapped`: `read()` of every tensor (a mapped view) summed whole.
 * `--no-sum` reads one byte per chunk instead of summing (what each path costs alone).
 * `--b <checkout>` adds each `stream …` and `read mapped` contender again as `B: …`, run
 * with that checkout's `src/index.ts` (e.g. a worktree of main before a change), so a
 * change is measured against its base in the same process and rounds (`--only` names
 * the contenders without `B: `).
 * Not part of `npm run bench`: a focused measurement for bench/README.md.
 */
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tensio from '../src/index.js';
import { memoryMapStatus, populateMappedView, type StreamTensorOptions } from '../src/index.js';
import { abRounds, abTable, AbArgs, loadLine, requireGc } from './lib/ab-rounds.js';
import { makeMixedTensors, safetensorsFixtureHeader, writeFolioPair } from './lib/fixtures.js';
import { rawReusedBuffer, readSpansReused, safetensorsHeaderSpans } from './lib/raw-fs.js';
import { sumFloat64Unrolled } from './lib/sum.js';

const MiB = 2 ** 20;
const CHUNK = 8 * MiB;
const args = new AbArgs();
const sizeMiB = args.number('--size-mib', 256);
const rounds = args.number('--rounds', 5);
const tensorCount = args.number('--tensors', 64);
const only = args.list('--only');
const noSum = args.flag('--no-sum');
const bCheckout = args.string('--b', '');
args.rest();
type Library = Pick<typeof tensio, 'openTensorFile'>;
const bLibrary: Library | undefined = bCheckout ? await import(pathToFileURL(resolve(bCheckout, 'src', 'index.ts')).href) as Library : undefined;
requireGc();
console.log(`mmap: ${memoryMapStatus().reason}`);

const dir = mkdtempSync(join(tmpdir(), 'tensio-stream-sum-ab-'));
const tensors = makeMixedTensors(sizeMiB * MiB, tensorCount);
const { header, offsets } = safetensorsFixtureHeader(tensors);
const spans = tensors.map((tensor, index) => ({ offset: offsets[index]!, length: tensor.data.byteLength }));
const files = writeFolioPair(dir, 'safetensors', [header, ...tensors.map((tensor) => tensor.data)]);
const totalBytes = tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
tensors.length = 0;

let sink = 0;
const sumFloat64 = (bytes: Uint8Array) => (noSum ? bytes[0]! : sumFloat64Unrolled(bytes));
const reused = rawReusedBuffer(CHUNK);

function rawReused(path: string, list: readonly { offset: number; length: number }[], fd = openSync(path, 'r')): number {
  try {
    return readSpansReused(fd, list, reused, (target) => { sink += sumFloat64(target); });
  } finally {
    closeSync(fd);
  }
}

async function streamAll(path: string, options: StreamTensorOptions, populate = false, library: Library = tensio): Promise<number> {
  let bytes = 0;
  const reader = await library.openTensorFile(path);
  try {
    for (const info of reader.tensors) {
      let first = populate;
      for await (const chunk of reader.stream(info.name, { reuseBuffer: true, ...options })) {
        // Fault-ahead of the whole tensor's mapping (the chunk is a view of it), from its end back.
        if (first) void populateMappedView(chunk, path)?.catch(() => undefined);
        first = false;
        sink += sumFloat64(chunk);
        bytes += chunk.byteLength;
      }
    }
  } finally {
    await reader.close();
  }
  return bytes;
}

type Run = (path: string) => Promise<number>;
/** The contenders that run tensio's code (again as `B: …` with `--b`). */
const libraryContenders = (library: Library): Record<string, Run> => ({
  'stream default': (path) => streamAll(path, {}, false, library),
  'stream mapped': (path) => streamAll(path, { copy: false }, false, library),
  'stream mapped populate': (path) => streamAll(path, { copy: false }, true, library),
  'stream copy': (path) => streamAll(path, { copy: true }, false, library),
  'stream copy one buffer': (path) => streamAll(path, { copy: true, readAhead: false }, false, library),
  'read mapped': async (path) => {
    let bytes = 0;
    const reader = await library.openTensorFile(path);
    try {
      for (const info of reader.tensors) {
        const tensor = await reader.read(info.name);
        sink += sumFloat64(tensor.data);
        bytes += tensor.data.byteLength;
      }
    } finally {
      await reader.close();
    }
    return bytes;
  },
});
const allContenders: Record<string, Run> = {
  'raw reused': async (path) => rawReused(path, spans),
  'raw reused + header': async (path) => {
    const fd = openSync(path, 'r');
    return rawReused(path, safetensorsHeaderSpans(fd), fd);
  },
  'open + close': async (path) => {
    const reader = await tensio.openTensorFile(path);
    await reader.close();
    return totalBytes;
  },
  ...libraryContenders(tensio),
};
for (const name of only ?? []) if (!(name in allContenders)) throw new Error(`--only: no contender "${name}" (${Object.keys(allContenders).join(', ')})`);
const chosen = Object.entries(allContenders).filter(([name]) => !only || only.has(name));
const bChosen = bLibrary ? Object.entries(libraryContenders(bLibrary)).filter(([name]) => !only || only.has(name)).map(([name, run]): [string, Run] => [`B: ${name}`, run]) : [];
const contenders = Object.fromEntries([...chosen, ...bChosen]);
if (bCheckout) console.log(`B: ${resolve(bCheckout)}`);

const samples = await abRounds({
  names: Object.keys(contenders),
  rounds,
  groups: Object.keys(files),
  run: (name, label) => contenders[name]!(files[label as keyof typeof files]),
  after: (name, _label, bytes) => {
    if (bytes !== totalBytes) throw new Error(`${name}: ${bytes} bytes, expected ${totalBytes}`);
  },
});
rmSync(dir, { recursive: true, force: true });

console.log(`${sizeMiB} MiB in ${tensorCount} tensors, ${rounds} rounds (+1 warm-up), medians; GB/s = bytes / wall; ${loadLine()}`);
for (const line of abTable(samples, totalBytes)) console.log(line);
if (sink === 42) console.log('');
