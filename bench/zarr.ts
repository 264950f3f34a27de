/**
 * Zarr benchmark: one float32 array (1 GiB by default) in chunks of 1 MiB (256 rows of
 * 1024), written and read by tensio and by Debian's zarr-python 2.13 (`/usr/bin/python3`,
 * timed inside Python) with no compressor and with gzip level 1, beside the raw file
 * system (one file written / read whole). Then a remote row slice over loopback HTTP:
 * requests and bytes against the stored chunks it touches, plain and sharded (v3), and an
 * N-d slice of a store in 256 × 256 chunks.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './lib/context.js';
import { logThroughputs, throughput } from './lib/context.js';
import { makeCompressibleFloat32 } from './lib/fixtures.js';
import { freshTarget, rawReadReused, rawReusedBuffer, rawWrite, chunkViews } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { runRounds, timeIt, type Contender } from './lib/timing.js';
import type { BenchRow } from './lib/types.js';
import { getJson, startServer } from './http.js';

const FORMAT = 'zarr';
const MiB = 2 ** 20;
const COLS = 1024;
const CHUNK_ROWS = 256; // 256 × 1024 × 4 B = 1 MiB

const PY = String.raw`
import sys, time, json, numpy as np, zarr, numcodecs
op, path, compressor, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
comp = None if compressor == 'none' else numcodecs.GZip(level=1)
if op == 'write':
    data = np.fromfile(sys.argv[5], dtype='<f4').reshape(rows, ${COLS})
    start = time.perf_counter()
    z = zarr.open(path, mode='w', shape=data.shape, chunks=(${CHUNK_ROWS}, ${COLS}), dtype='<f4', compressor=comp)
    z[...] = data
    print(json.dumps({'seconds': time.perf_counter() - start}))
else:
    start = time.perf_counter()
    data = zarr.open(path, mode='r')[...]
    print(json.dumps({'seconds': time.perf_counter() - start, 'sum': float(data[::997, ::31].sum())}))
`;

function debianZarr(args: string[]): number {
  const result = spawnSync('/usr/bin/python3', ['-c', PY, ...args], { encoding: 'utf8', timeout: 1_800_000, maxBuffer: 16 * MiB });
  if (result.status !== 0) throw new Error(`Debian zarr: ${result.stderr.trim().split('\n').pop()}`);
  return (JSON.parse(result.stdout) as { seconds: number }).seconds;
}

function debianZarrReason(): string | undefined {
  const result = spawnSync('/usr/bin/python3', ['-c', 'import zarr, numcodecs'], { encoding: 'utf8' });
  return result.status === 0 ? undefined : 'Debian python3-zarr not installed';
}

/**
 * Runs the Zarr benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runZarrBench(context);
 * ```
 */
export async function runZarrBench(context: BenchContext): Promise<BenchRow[]> {
  const { dir, log } = context;
  const { zarrCreateWriter, zarrOpen } = await import('../src/formats/zarr/index.js');
  const rows: BenchRow[] = [];
  const data = makeCompressibleFloat32(context.sizeMiB * MiB, COLS * CHUNK_ROWS);
  const shape = [data.byteLength / 4 / COLS, COLS];
  const total = data.byteLength;
  const rawPath = join(dir, 'zarr-raw.f32');
  await rawWrite(rawPath, chunkViews(data));
  const reason = debianZarrReason();
  log(`zarr: float32 [${shape.join(', ')}] (${(total / MiB).toFixed(0)} MiB) in 1 MiB chunks; zarr-python: ${reason ?? 'Debian zarr 2.13'}`);
  const rounds = context.reps > 1 ? context.reps + 1 : 1;
  const reused = rawReusedBuffer();

  for (const compressor of ['none', 'gzip'] as const) {
    const mine = join(dir, `tensio-${compressor}.zarr`);
    const theirs = join(dir, `python-${compressor}.zarr`);
    const rawCopy = join(dir, 'zarr-raw-copy.f32');
    const write = (path: string) => timeIt(async () => {
      const writer = await zarrCreateWriter(path, { tensors: [{ name: 'x', dtype: 'float32', shape }], formatOptions: { version: 2, compressor, level: 1, chunks: [CHUNK_ROWS, COLS] } });
      await writer.add('x', chunkViews(data));
      await writer.close();
    });
    const writers: Contender[] = [
      { name: 'raw fs write', before: () => freshTarget(rawCopy), run: () => rawWrite(rawCopy, chunkViews(data)) },
      { name: 'tensio write', before: () => freshTarget(mine), run: () => write(mine) },
      ...(reason ? [] : [{ name: 'zarr-python write', before: () => freshTarget(theirs), run: async () => debianZarr(['write', theirs, compressor, String(shape[0]), rawPath]) }]),
    ];
    const written = await runRounds(writers, rounds);
    logThroughputs(context, `zarr write ${compressor}`, written, total);
    const storeBytes = readdirSync(join(mine, 'x')).reduce((sum, name) => sum + statSync(join(mine, 'x', name)).size, 0);
    rows.push(compareRow(FORMAT, `write v2 ${compressor === 'gzip' ? 'gzip 1' : 'uncompressed'} vs zarr-python 2.13`, throughput(written.get('tensio write'), total).median, throughput(written.get('zarr-python write'), total).median, 'zarr-python', compressor === 'gzip' ? 0.5 : 0.8,
      reason ?? `stored ${(storeBytes / MiB).toFixed(0)} MiB; raw fs write ${throughput(written.get('raw fs write'), total).median?.toFixed(2)} GB/s`));

    const read = async (path: string) => {
      const start = process.hrtime.bigint();
      await using reader = await zarrOpen(path);
      const tensor = await reader.read('x');
      if (tensor.data.byteLength !== total) throw new Error('short read');
      return Number(process.hrtime.bigint() - start) / 1e9;
    };
    const readers: Contender[] = [
      { name: 'raw fs read', run: () => rawReadReused(rawPath, [{ offset: 0, length: total }], reused) },
      { name: 'tensio read', run: () => read(mine) },
      ...(reason ? [] : [{ name: 'zarr-python read', run: async () => debianZarr(['read', theirs, compressor, String(shape[0])]) }]),
    ];
    const results = await runRounds(readers, rounds);
    logThroughputs(context, `zarr read ${compressor}`, results, total);
    rows.push(compareRow(FORMAT, `read() v2 ${compressor === 'gzip' ? 'gzip 1' : 'uncompressed'} vs zarr-python 2.13 z[...]`, throughput(results.get('tensio read'), total).median, throughput(results.get('zarr-python read'), total).median, 'zarr-python', compressor === 'gzip' ? 0.5 : 0.8,
      reason ?? `raw fs read (reused 8 MiB buffer) ${throughput(results.get('raw fs read'), total).median?.toFixed(2)} GB/s`));
    freshTarget(theirs, rawCopy);
  }

  // Remote slice: rows [1000, 1300) touch 2 chunks of 256 rows (plain) or 2 inner chunks of one shard.
  const remoteRoot = join(dir, 'remote');
  const sliceRows = Math.min(300, shape[0]! - 1);
  const sliceStart = Math.min(1000, shape[0]! - sliceRows - 1);
  for (const variant of ['plain', 'sharded'] as const) {
    const path = join(remoteRoot, `${variant}.zarr`);
    const writer = await zarrCreateWriter(path, { tensors: [{ name: 'x', dtype: 'float32', shape }], formatOptions: { version: 3, compressor: 'gzip', level: 1, chunks: [CHUNK_ROWS, COLS], ...(variant === 'sharded' ? { shards: 16 } : {}) } });
    await writer.add('x', chunkViews(data));
    await writer.close();
  }
  // An N-d box: 2-D chunks of 256 × 256 (the first 2048 rows are enough to count requests).
  const boxShape = [Math.min(2048, shape[0]!), COLS];
  const boxChunk = 256;
  {
    const writer = await zarrCreateWriter(join(remoteRoot, 'tiles.zarr'), { tensors: [{ name: 'x', dtype: 'float32', shape: boxShape }], formatOptions: { version: 3, compressor: 'gzip', level: 1, chunks: [boxChunk, boxChunk] } });
    await writer.add('x', data.subarray(0, boxShape[0]! * COLS * 4));
    await writer.close();
  }
  const server = await startServer(remoteRoot);
  try {
    for (const variant of ['plain', 'sharded'] as const) {
      await using reader = await zarrOpen(`${server.base}/${variant}.zarr`);
      await fetch(`${server.base}/__reset`);
      const start = process.hrtime.bigint();
      const slice = await reader.read('x', { slice: { start: sliceStart, end: sliceStart + sliceRows } });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const cost = await getJson(`${server.base}/__stats`);
      const first = Math.floor(sliceStart / CHUNK_ROWS);
      const last = Math.floor((sliceStart + sliceRows - 1) / CHUNK_ROWS);
      const touched = last - first + 1;
      let chunkBytes = 0;
      if (variant === 'plain') for (let c = first; c <= last; c += 1) chunkBytes += statSync(join(remoteRoot, 'plain.zarr', 'x', 'c', String(c), '0')).size;
      const shardBytes = variant === 'sharded' ? statSync(join(remoteRoot, 'sharded.zarr', 'x', 'c', '0', '0')).size : 0;
      const expectedRequests = variant === 'plain' ? touched : touched + 1; // + the shard index (suffix range)
      rows.push({
        format: FORMAT,
        operation: `remote slice of ${sliceRows} rows (${touched} chunks), ${variant}: requests (bytes ${(cost.bytes / MiB).toFixed(2)} MiB${variant === 'plain' ? ` vs ${(chunkBytes / MiB).toFixed(2)} MiB in the touched chunks` : ` of a ${(shardBytes / MiB).toFixed(1)} MiB shard`})`,
        unit: 'requests',
        tensio: cost.requests,
        goal: `${expectedRequests} requests`,
        met: cost.requests === expectedRequests && (variant === 'sharded' || cost.bytes <= chunkBytes * 1.01),
        note: `${(seconds * 1000).toFixed(0)} ms; ${slice.data.byteLength} bytes returned`,
      });
    }
    // Rows [1000, 1300) × columns [300, 600) touch 3 × 2 tiles; the band of those rows would be 3 × 4.
    {
      const top = Math.max(0, Math.min(1000, boxShape[0]! - 300));
      const box: [number, number][] = [[top, Math.min(top + 300, boxShape[0]!)], [300, 600]];
      await using reader = await zarrOpen(`${server.base}/tiles.zarr`);
      await fetch(`${server.base}/__reset`);
      const start = process.hrtime.bigint();
      const slice = await reader.read('x', { slice: box });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const cost = await getJson(`${server.base}/__stats`);
      const tiles: [number, number][] = [];
      for (let r = Math.floor(box[0]![0] / boxChunk); r <= Math.floor((box[0]![1] - 1) / boxChunk); r += 1) {
        for (let c = Math.floor(box[1]![0] / boxChunk); c <= Math.floor((box[1]![1] - 1) / boxChunk); c += 1) tiles.push([r, c]);
      }
      const tileBytes = tiles.reduce((sum, [r, c]) => sum + statSync(join(remoteRoot, 'tiles.zarr', 'x', 'c', String(r), String(c))).size, 0);
      rows.push({
        format: FORMAT,
        operation: `remote N-d slice [${box.map(([a, b]) => `${a}:${b}`).join(', ')}] (${tiles.length} of ${boxChunk}×${boxChunk} chunks): requests (bytes ${(cost.bytes / MiB).toFixed(2)} MiB vs ${(tileBytes / MiB).toFixed(2)} MiB in the touched chunks)`,
        unit: 'requests',
        tensio: cost.requests,
        goal: `${tiles.length} requests`,
        met: cost.requests === tiles.length && cost.bytes <= tileBytes * 1.01,
        note: `${(seconds * 1000).toFixed(0)} ms; ${slice.data.byteLength} bytes returned`,
      });
    }
  } finally {
    server.stop();
  }
  return rows;
}
