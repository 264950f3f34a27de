/**
 * Huge-page result buffers, A/B in one process (`node --expose-gc --import tsx
 * bench/hugepages-ab.ts [--size-mib 128] [--rounds 5]`): each round runs every case once
 * with ordinary buffers (`TENSIO_NO_HUGEPAGES=1`, read at every allocation) and once with
 * the addon's huge-page buffers, in alternating order, and prints the median CPU time
 * (user + system) and wall time of each. Cases: a cached file read into a fresh buffer
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

const MiB = 2 ** 20;
const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const sizeMiB = option('--size-mib', 128);
const rounds = option('--rounds', 5);
const total = sizeMiB * MiB;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(`hugepages A/B: ${sizeMiB} MiB, ${rounds} rounds (+1 untimed), load ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')}`);
for (const { name, run } of cases) {
  const thp0 = thpCounters();
  const samples = { ordinary: { cpu: [] as number[], wall: [] as number[] }, huge: { cpu: [] as number[], wall: [] as number[] } };
  for (let round = 0; round <= rounds; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    for (const huge of order) {
      if (huge) delete process.env.TENSIO_NO_HUGEPAGES;
      else process.env.TENSIO_NO_HUGEPAGES = '1';
      gc();
      const cpu0 = process.cpuUsage();
      const wall0 = process.hrtime.bigint();
      const result = await run(huge);
      const cpu = process.cpuUsage(cpu0);
      const wall = Number(process.hrtime.bigint() - wall0) / 1e6;
      if (result.byteLength !== total || isHugePageBuffer(result) !== huge) throw new Error(`${name}: ${result.byteLength} bytes, huge ${isHugePageBuffer(result)} (expected ${huge})`);
      if (round === 0) continue;
      const bucket = huge ? samples.huge : samples.ordinary;
      bucket.cpu.push((cpu.user + cpu.system) / 1000);
      bucket.wall.push(wall);
    }
  }
  const line = (label: string, s: { cpu: number[]; wall: number[] }) => `${label} cpu ${median(s.cpu).toFixed(0)} ms, wall ${median(s.wall).toFixed(0)} ms (${(total / median(s.wall) / 1e6).toFixed(2)} GB/s)`;
  const thp1 = thpCounters();
  console.log(`${name}: ${line('ordinary', samples.ordinary)} | ${line('huge pages', samples.huge)} | cpu ${(median(samples.ordinary.cpu) / median(samples.huge.cpu)).toFixed(2)}x; huge-page faults ${thp1.alloc - thp0.alloc}, fallbacks to 4 KiB ${thp1.fallback - thp0.fallback} (${(total / 2 ** 21) * (rounds + 1)} wanted)`);
}
delete process.env.TENSIO_NO_HUGEPAGES;
rmSync(dir, { recursive: true, force: true });
