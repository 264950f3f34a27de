/**
 * HDF5 files larger than memory: a 10 GiB file h5py writes (a contiguous dataset
 * allocated early, never filled, so the file is sparse on disk; and an 8 GiB chunked gzip
 * dataset with two chunks written) opens from its metadata, slices and streams chunk by
 * chunk, and the process's memory stays far below the file's size. `read()` of a whole
 * dataset over one buffer is `LIMIT_EXCEEDED` (read a slice or stream it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { openTensorFile } from '../src/operations/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const GiB = 2 ** 30;
const COLS = 4096;
const ROWS = (10 * GiB) / 4 / COLS;
const GZ_ROWS = 2 ** 19;

const WRITE = String.raw`
import sys, h5py, numpy as np
path, rows, cols, gz_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with h5py.File(path, 'w') as f:
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
    space = h5py.h5s.create_simple((rows, cols))
    big = h5py.Dataset(h5py.h5d.create(f.id, b'big', h5py.h5t.IEEE_F32LE, space, dcpl=dcpl))
    big[0:4] = np.arange(4 * cols, dtype='<f4').reshape(4, cols)
    big[rows - 4:rows] = -np.arange(4 * cols, dtype='<f4').reshape(4, cols)
    gz = f.create_dataset('grp/gz', shape=(gz_rows, cols), dtype='<f4', chunks=(64, cols), compression='gzip', compression_opts=1)
    gz[0:64] = 1.5
    gz[gz_rows - 64:gz_rows] = 2.5
`;

test('a 10 GiB HDF5 file (sparse on disk) opens from its metadata, slices and streams; memory stays far below its size; read() of a whole dataset is LIMIT_EXCEEDED', { skip: oracleSkip('h5py', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'big.h5');
  runPython(WRITE, [path, String(ROWS), String(COLS), String(GZ_ROWS)], { timeoutMs: 300_000 });
  assert.ok(statSync(path).size >= 10 * GiB, `file is ${statSync(path).size} bytes`);
  const rssBefore = process.memoryUsage().rss;

  await using reader = await openTensorFile(path);
  assert.equal(reader.format, 'hdf5');
  assert.deepEqual(reader.tensors.map((info) => [info.name, info.byteLength]).sort(), [['big', 10 * GiB], ['grp/gz', GZ_ROWS * COLS * 4]]);
  await assert.rejects(reader.read('big'), (error) => isTensioError(error, 'LIMIT_EXCEEDED'));
  await assert.rejects(reader.read('grp/gz'), (error) => isTensioError(error, 'LIMIT_EXCEEDED'));

  // The last rows (10 GiB into the file) and a corner box.
  const tail = new Float32Array((await reader.read('big', { slice: { start: ROWS - 2, end: ROWS } })).data.slice().buffer);
  assert.deepEqual([tail[0], tail[COLS - 1], tail[2 * COLS - 1]], [-2 * COLS, -(3 * COLS - 1), -(4 * COLS - 1)]);
  const corner = new Float32Array((await reader.read('big', { slice: [[1, 3], [100, 102]] })).data.slice().buffer);
  assert.deepEqual([...corner], [COLS + 100, COLS + 101, 2 * COLS + 100, 2 * COLS + 101]);

  // Streams hand out the start without reading the rest.
  let pieces = 0;
  for await (const piece of reader.stream('big', { chunkBytes: 8 * 2 ** 20 })) {
    if (pieces === 0) assert.deepEqual([...new Float32Array(piece.slice(0, 16).buffer)], [0, 1, 2, 3]);
    pieces += 1;
    if (pieces === 3) break;
  }
  assert.equal(pieces, 3);

  // The gzip dataset: written chunks, and unwritten ones as the fill value (0).
  const gz = new Float32Array((await reader.read('grp/gz', { slice: { start: 62, end: 66 } })).data.slice().buffer);
  assert.deepEqual([gz[0], gz[2 * COLS - 1], gz[2 * COLS], gz[4 * COLS - 1]], [1.5, 1.5, 0, 0]);
  const gzTail = new Float32Array((await reader.read('grp/gz', { slice: { start: GZ_ROWS - 1 } })).data.slice().buffer);
  assert.equal(gzTail[COLS - 1], 2.5);
  for await (const piece of reader.stream('grp/gz', { chunkBytes: 4 * 2 ** 20 })) {
    assert.equal(new Float32Array(piece.slice(0, 4).buffer)[0], 1.5);
    break;
  }

  const grown = process.memoryUsage().rss - rssBefore;
  assert.ok(grown < 1.5 * GiB, `resident memory grew by ${(grown / GiB).toFixed(2)} GiB for a 10 GiB file`);
});
