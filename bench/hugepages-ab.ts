/**
 * Huge-page result buffers, A/B in one process (`node --expose-gc --import tsx
 * bench/hugepages-ab.ts [--size-mib 128] [--rounds 5]`): each round runs every case once
 * with ordinary buffers (`TENSIO_NO_HUGEPAGES=1`, read at every allocation) and once with
 * the addon's huge-page buffers, in alternating order (`lib/ab-rounds.ts`), and prints the
 * median CPU time (user + system), wall time and minor page faults of each. Cases: a cached file read into a fresh buffer
 * (`Buffer.allocUnsafeSlow` against the read allocator), a Zarr v2 uncompressed `read()`
 * of 1 MiB chunks, and an HDF5 chunked uncompressed `read({ copy: true })`. Not part of
 * `npm run bench`: a focused measurement for bench/README.md.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocateUninitialized } from '../src/core/memory.js';
import { isHugePageBuffer, memoryMapStatus } from '../src/index.js';
import { zarrCreateWriter, zarrOpen } from '../src/formats/zarr/index.js';
import { hdf5CreateWriter, hdf5Open } from '../src/formats/hdf5/index.js';
import { abMedians, abRounds, AbArgs, loadLine, requireGc, type AbSample } from './lib/ab-rounds.js';

const MiB = 2 ** 20;
const args = new AbArgs();
const sizeMiB = args.number('--size-mib', 128);
const rounds = args.number('--rounds', 5);
args.rest();
const total = sizeMiB * MiB;
requireGc();
const status = memoryMapStatus();
if (!status.hugePageBuffers) throw new Error(`huge-page buffers are off: ${status.hugePageReason}`);

const dir = mkdtempSync(join(tmpdir(), 'tensio-hugepages-ab-'));
const data = new Uint8Array(total);
for (let i = 0; i < total; i += 4096) data[i] = i / 4096;
const rawPath = join(dir, 'raw.bin');
writeFileSync(rawPath, data);
const shape = [total / 4 / 1024, 1024];
const zarrPath = join(dir, 'a.zarr');
{
  const writer = await zarrCreateWriter(zarrPath, { tensors: [{ name: 'x', dtype: 'float32', shape }], formatOptions: { version: 2, compressor: 'none', chunks: [256, 1024] } });
  await writer.add('x', data);
  await writer.close();
}
const h5Path = join(dir, 'a.h5');
{
  const writer = await hdf5CreateWriter(h5Path, { tensors: [{ name: 'x', dtype: 'float32', shape }], compression: 'none', chunkRows: 256 });
  await writer.add('x', data);
  await writer.close();
}

type Case = { name: string; run: (huge: boolean) => Promise<Uint8Array> };
const cases: Case[] = [
  {
    name: 'cached file read into a fresh buffer',
    run: async (huge) => {
      const target = huge ? allocateUninitialized(total) : Buffer.allocUnsafeSlow(total);
      const fd = openSync(rawPath, 'r');
      try {
        for (let at = 0; at < total;) at += readSync(fd, target, at, Math.min(total - at, 1 << 30), at);
      } finally {
        closeSync(fd);
      }
      return target;
    },
  },
  {
    name: 'Zarr v2 uncompressed read()',
    run: async () => {
      await using reader = await zarrOpen(zarrPath);
      return (await reader.read('x')).data;
    },
  },
  {
    name: 'HDF5 chunked uncompressed read({ copy: true })',
    run: async () => {
      await using reader = await hdf5Open(h5Path);
      return (await reader.read('x', { copy: true })).data;
    },
  },
];

/** The kernel's huge-page fault counters: whether huge pages were had or fell back to 4 KiB. */
function thpCounters(): { alloc: number; fallback: number } {
  try {
    const text = readFileSync('/proc/vmstat', 'utf8');
    const value = (key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    return { alloc: value('thp_fault_alloc'), fallback: value('thp_fault_fallback') };
  } catch {
    return { alloc: NaN, fallback: NaN };
  }
}

console.log(`hugepages A/B: ${sizeMiB} MiB, ${rounds} rounds (+1 untimed), ${loadLine()}`);
const ORDINARY = 'ordinary';
const HUGE = 'huge pages';
for (const { name, run } of cases) {
  const thp0 = thpCounters();
  const samples = await abRounds({
    names: [ORDINARY, HUGE],
    rounds,
    // Read at every allocation: switched untimed before each run.
    before: (variant) => {
      if (variant === HUGE) delete process.env.TENSIO_NO_HUGEPAGES;
      else process.env.TENSIO_NO_HUGEPAGES = '1';
    },
    run: (variant) => run(variant === HUGE),
    after: (variant, _group, result) => {
      const huge = variant === HUGE;
      if (result.byteLength !== total || isHugePageBuffer(result) !== huge) throw new Error(`${name}: ${result.byteLength} bytes, huge ${isHugePageBuffer(result)} (expected ${huge})`);
    },
  });
  const ordinary = abMedians(samples.get(ORDINARY)!);
  const huge = abMedians(samples.get(HUGE)!);
  const line = (label: string, m: AbSample) => `${label} cpu ${m.cpu.toFixed(0)} ms, wall ${m.wall.toFixed(0)} ms (${(total / m.wall / 1e6).toFixed(2)} GB/s), faults ${m.faults.toFixed(0)}`;
  const thp1 = thpCounters();
  console.log(`${name}: ${line(ORDINARY, ordinary)} | ${line(HUGE, huge)} | cpu ${(ordinary.cpu / huge.cpu).toFixed(2)}x; huge-page faults ${thp1.alloc - thp0.alloc}, fallbacks to 4 KiB ${thp1.fallback - thp0.fallback} (${(total / 2 ** 21) * (rounds + 1)} wanted)`);
}
delete process.env.TENSIO_NO_HUGEPAGES;
rmSync(dir, { recursive: true, force: true });
