/**
 * Where a `.pt` `read()` of every tensor + sum loses against one big `.npy` tensor
 * (`node --expose-gc --import tsx bench/pt-gap-probe.ts [--size-mib 256] [--tensors 16]
 * [--rounds 5] [--only a,b] [--python PY]`; issue 15's `.pt` row, session 30). A state
 * dict of `--tensors` float32 tensors is written by `torch.save` (the oracle Python, as
 * the mmap bench group does), and the same file is copied in one write (its page cache
 * then in 2 MiB folios wherever the offsets allow). Every round runs each contender on
 * both files in rotating order (bench/lib/ab-rounds.ts: medians of wall, process CPU,
 * JavaScript-thread CPU, minor faults). Contenders, each summing every byte with the
 * bench's loop (bench/lib/sum.ts) and keeping the tensors until its end:
 * - `read`: `read()` of each tensor in file order (the default: mapped, populated);
 * - `read lazy`: `read({ populate: false })`;
 * - `readEach`: the library's read-ahead (64 MiB); `readEach 1 ahead`: one tensor ahead;
 * - `one map`: the file's whole data range as ONE mapping, populated and summed per
 *   tensor (what a single `.npy` tensor gets: no per-tensor map, no per-tensor job).
 * After the rounds, one pass of `read` per file reports how much of the mapped tensors
 * the kernel mapped with 2 MiB entries (`FilePmdMapped` of the file's mappings in
 * /proc/self/smaps) and where the JS thread's time went (sum of the awaits of `read()`
 * against the sums). `--b CHECKOUT` adds `B: read`, the same loop with that checkout's
 * `src/index.ts` (a worktree of main before a change), in the same rounds; `--torch-only`
 * leaves the one-write copy out of the rounds. Not part of `npm run bench`.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tensio from '../src/index.js';
import { memoryMapStatus, openTensorFile, readEach, type Tensor } from '../src/index.js';
import { mapFileRange, populateMappedView } from '../src/storage/memory-map.js';
import { abRounds, abTable, AbArgs, jsThreadNs, loadLine, requireGc } from './lib/ab-rounds.js';
import { sumFloat64Unrolled } from './lib/sum.js';

const MiB = 2 ** 20;
const args = new AbArgs();
const sizeMiB = args.number('--size-mib', 256);
const tensorCount = args.number('--tensors', 16);
const rounds = args.number('--rounds', 5);
const only = args.list('--only');
const python = args.string('--python', process.env.TENSIO_ORACLE_PYTHON ?? '');
const bCheckout = args.string('--b', '');
const torchOnly = args.flag('--torch-only');
args.rest();
type Library = Pick<typeof tensio, 'openTensorFile'>;
const bLibrary: Library | undefined = bCheckout ? await import(pathToFileURL(resolve(bCheckout, 'src', 'index.ts')).href) as Library : undefined;
requireGc();
if (!python) throw new Error('needs the oracle python with torch: --python PY or TENSIO_ORACLE_PYTHON');
console.log(`mapping: ${memoryMapStatus().mappingAccounting ?? 'off'}; ${memoryMapStatus().reason}`);

const dir = mkdtempSync(join(tmpdir(), 'tensio-pt-gap-'));
const files = { torch: join(dir, 'torch.pt'), 'one write': join(dir, 'copy.pt') };
// torch.save, then each data record's data offset from its local header (torch writes sizes in data descriptors).
const spansJson = execFileSync(python, ['-c', `
import torch, sys, json, struct, zipfile
count, per = int(sys.argv[2]), int(sys.argv[3])
g = torch.Generator().manual_seed(1)
torch.save({f"model.layers.{i}.weight": torch.rand(per // 4096, 1024, generator=g) for i in range(count)}, sys.argv[1])
spans = []
with open(sys.argv[1], 'rb') as raw:
    for entry in zipfile.ZipFile(sys.argv[1]).infolist():
        if '/data/' not in entry.filename or entry.filename.endswith('serialization_id'):
            continue
        raw.seek(entry.header_offset + 26)
        name_length, extra_length = struct.unpack('<HH', raw.read(4))
        spans.append({'offset': entry.header_offset + 30 + name_length + extra_length, 'length': entry.file_size})
print(json.dumps(spans))
`, files.torch, String(tensorCount), String(Math.floor(sizeMiB * MiB / tensorCount))], { encoding: 'latin1' });
{
  const bytes = readFileSync(files.torch);
  const fd = openSync(files['one write'], 'w');
  writeSync(fd, bytes, 0, bytes.byteLength, 0);
  closeSync(fd);
}

let sink = 0;
type Run = (path: string, keep: unknown[]) => Promise<void>;

async function readAll(path: string, keep: unknown[], options: { populate?: boolean }, library: Library = tensio): Promise<void> {
  await using reader = await library.openTensorFile(path);
  for (const info of reader.tensors) summed(await reader.read(info.name, options), keep);
}

function summed(tensor: Tensor, keep: unknown[]): void {
  sink += sumFloat64Unrolled(tensor.data);
  keep.push(tensor);
}

const contenders: Record<string, Run> = {
  read: (path, keep) => readAll(path, keep, {}),
  'read lazy': (path, keep) => readAll(path, keep, { populate: false }),
  ...(bLibrary ? { 'B: read': (path: string, keep: unknown[]) => readAll(path, keep, {}, bLibrary) } : {}),
  readEach: async (path, keep) => {
    await using reader = await openTensorFile(path);
    for await (const { tensor } of readEach(reader)) summed(tensor, keep);
  },
  'readEach 1 ahead': async (path, keep) => {
    // readEach with one tensor's worth of look-ahead: what a read() loop in file order could get.
    await using reader = await openTensorFile(path);
    for await (const { tensor } of readEach(reader, { aheadBytes: reader.tensors[0]!.byteLength })) summed(tensor, keep);
  },
  'one map': async (path, keep) => {
    // One mapping over every tensor (they lie end to end, a local header between each).
    const first = layout.get(path)![0]!;
    const last = layout.get(path)!.at(-1)!;
    const fd = openSync(path, 'r');
    try {
      const all = mapFileRange(fd, first.offset, last.offset + last.length - first.offset, path)!;
      void populateMappedView(all, path)?.catch(() => undefined);
      for (const span of layout.get(path)!) sink += sumFloat64Unrolled(all.subarray(span.offset - first.offset, span.offset - first.offset + span.length));
      keep.push(all);
    } finally {
      closeSync(fd);
    }
  },
};

/** The data records' spans (file offset, length), sorted: the copy has the same bytes, so the same spans. */
const recordSpans = (JSON.parse(spansJson) as { offset: number; length: number }[]).sort((a, b) => a.offset - b.offset);
const layout = new Map(Object.values(files).map((path) => [path, recordSpans]));

const samples = await abRounds({
  names: Object.keys(contenders).filter((name) => !only || only.has(name)),
  rounds,
  groups: torchOnly ? ['torch'] : Object.keys(files),
  run: async (name, label) => {
    const keep: unknown[] = [];
    await contenders[name]!(files[label as keyof typeof files], keep);
    return keep;
  },
  after: (_name, _label, keep) => { keep.length = 0; },
});
const totalBytes = layout.get(files.torch)!.reduce((sum, span) => sum + span.length, 0);
console.log(`${sizeMiB} MiB in ${tensorCount} tensors, ${rounds} rounds (+1 warm-up), medians; ${loadLine()}`);
for (const line of abTable(samples, totalBytes)) console.log(line);

/** kB of the file's mappings in /proc/self/smaps: Rss and FilePmdMapped. */
function smapsOf(path: string): { rss: number; pmd: number; mappings: number } {
  const text = readFileSync('/proc/self/smaps', 'latin1');
  let inFile = false;
  const total = { rss: 0, pmd: 0, mappings: 0 };
  for (const line of text.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) {
      inFile = line.endsWith(path);
      if (inFile) total.mappings++;
    } else if (inFile) {
      const match = /^(Rss|FilePmdMapped):\s+(\d+) kB/.exec(line);
      if (match) total[match[1] === 'Rss' ? 'rss' : 'pmd'] += Number(match[2]);
    }
  }
  return total;
}

for (const [label, path] of Object.entries(files)) {
  for (const populate of [undefined, false]) {
    requireGc()();
    await new Promise((resolve) => setImmediate(resolve));
    const reader = await openTensorFile(path);
    const keep: Tensor[] = [];
    let readNs = 0;
    let sumNs = 0;
    for (const info of reader.tensors) {
      let at = jsThreadNs();
      const tensor = await reader.read(info.name, populate === undefined ? {} : { populate });
      readNs += jsThreadNs() - at;
      at = jsThreadNs();
      sink += sumFloat64Unrolled(tensor.data);
      sumNs += jsThreadNs() - at;
      keep.push(tensor);
    }
    const maps = smapsOf(path);
    await reader.close();
    const offsets = layout.get(path)!.map((span) => span.offset % (2 * MiB));
    console.log(`${label}${populate === false ? ' lazy' : ''}: ${maps.mappings} mappings, Rss ${(maps.rss / 1024).toFixed(0)} MiB, FilePmdMapped ${(maps.pmd / 1024).toFixed(0)} MiB; JS thread: read() ${(readNs / 1e6).toFixed(1)} ms, sums ${(sumNs / 1e6).toFixed(1)} ms; data offsets mod 2 MiB: ${offsets.slice(0, 4).join(', ')}, ...`);
    keep.length = 0;
  }
}
console.log(loadLine());
rmSync(dir, { recursive: true, force: true });
if (sink === 42) console.log('');
