/**
 * The Arrow writer's own record batches: the message flatbuffer read back by tensio's
 * parser, the body's layout (64-byte aligned buffers, empty validity buffers, length
 * prefixes of compressed buffers), the zstd level option, and compressed files read by
 * pyarrow (with full validation) and by polars, which rejected apache-arrow's compressed
 * files (ecosystem.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TensioError } from '../src/core/errors.js';
import { arrowEncodeBatch } from '../src/formats/arrow/batch-body.js';
import { arrowRecordBatchMessage } from '../src/formats/arrow/batch-message.js';
import { arrowParseMessage, arrowParseRecordBatch } from '../src/formats/arrow/read.js';
import { arrowOpen } from '../src/formats/arrow/reader.js';
import { arrowCreateWriter } from '../src/formats/arrow/writer.js';
import { ARROW_MESSAGE } from '../src/formats/arrow/types.js';
import { convert } from '../src/operations/convert.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** The parsed header of a message `arrowRecordBatchMessage` built. */
function parseBatchMessage(message: Uint8Array) {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  assert.equal(view.getInt32(0, true), -1, 'continuation marker');
  const metadataLength = view.getInt32(4, true);
  assert.equal(metadataLength % 8, 0, 'metadata padded to 8');
  assert.equal(8 + metadataLength, message.byteLength);
  const parsed = arrowParseMessage(message.subarray(8));
  assert.equal(parsed.headerType, ARROW_MESSAGE.RecordBatch);
  return { parsed, batch: arrowParseRecordBatch(parsed.header!) };
}

test('record batch messages read back by the parser: rows, nodes, buffers, body length, codec, sizes past 2^32', () => {
  const nodes = [{ length: 3, nullCount: 0 }, { length: 2 ** 33 + 5, nullCount: 7 }];
  const buffers = [{ offset: 0, length: 0 }, { offset: 64, length: 2 ** 32 + 1 }, { offset: 2 ** 40, length: 12 }];
  for (const codec of [undefined, 0, 1]) {
    const { parsed, batch } = parseBatchMessage(arrowRecordBatchMessage(2 ** 35, nodes, buffers, 2 ** 41, codec));
    assert.equal(parsed.version, 4, 'metadata version V5');
    assert.equal(parsed.bodyLength, 2 ** 41);
    assert.equal(batch.length, 2 ** 35);
    assert.deepEqual(batch.nodes, nodes);
    assert.deepEqual(batch.buffers, buffers);
    assert.equal(batch.codec, codec);
  }
  const empty = parseBatchMessage(arrowRecordBatchMessage(10, [], [], 0)).batch;
  assert.deepEqual([empty.length, empty.nodes.length, empty.buffers.length], [10, 0, 0]);
  assert.throws(() => arrowRecordBatchMessage(-1, [], [], 0), (error: unknown) => error instanceof TensioError && error.code === 'INVALID_STATE');
  assert.throws(() => arrowRecordBatchMessage(1, [{ length: 1.5, nullCount: 0 }], [], 0), (error: unknown) => error instanceof TensioError && error.code === 'INVALID_STATE');
});

test('a batch body: a node per column and level, empty validity buffers, 64-byte aligned buffers, bits for booleans, length prefixes when compressed', async () => {
  const rows = 5;
  const columns = [
    { name: 'x', dtype: 'float32' as const, cellShape: [], tensor: 'x' },
    { name: 'flags', dtype: 'bool' as const, cellShape: [], tensor: 'flags' },
    { name: 'cube', dtype: 'int16' as const, cellShape: [2, 3], tensor: 'cube' },
  ];
  const values = [new Uint8Array(rows * 4).fill(1), Uint8Array.from([1, 0, 1, 1, 0]), new Uint8Array(rows * 6 * 2).fill(2)];
  const plain = await arrowEncodeBatch(columns, values, rows);
  const { parsed, batch } = parseBatchMessage(plain.message);
  assert.equal(parsed.bodyLength, plain.bodyLength);
  assert.equal(plain.parts.reduce((sum, part) => sum + part.byteLength, 0), plain.bodyLength, 'the parts are the whole body');
  assert.deepEqual(batch.nodes, [{ length: 5, nullCount: 0 }, { length: 5, nullCount: 0 }, { length: 5, nullCount: 0 }, { length: 30, nullCount: 0 }]);
  assert.deepEqual(batch.buffers.map((buffer) => buffer.length), [0, 20, 0, 1, 0, 0, 60]);
  for (const buffer of batch.buffers) assert.equal(buffer.offset % 64, 0, `buffer at ${buffer.offset} is 64-byte aligned`);
  const body = Buffer.concat(plain.parts);
  assert.equal(body[batch.buffers[3]!.offset], 0b01101, 'booleans as bits, least significant first');
  assert.deepEqual([...body.subarray(batch.buffers[1]!.offset, batch.buffers[1]!.offset + 20)], [...values[0]!]);

  const framed: Uint8Array[] = [];
  const compressed = await arrowEncodeBatch(columns, values, rows, { codec: 1, compress: (bytes) => { framed.push(bytes); return Uint8Array.from([9, 9, 9]); } });
  const header = parseBatchMessage(compressed.message).batch;
  assert.equal(header.codec, 1);
  assert.equal(framed.length, 3, 'only the non-empty buffers are compressed');
  assert.deepEqual(header.buffers.map((buffer) => buffer.length), [0, 11, 0, 11, 0, 0, 11]);
  const compressedBody = Buffer.concat(compressed.parts);
  const prefix = (at: number) => Number(compressedBody.readBigInt64LE(header.buffers[at]!.offset));
  assert.deepEqual([prefix(1), prefix(3), prefix(6)], [20, 1, 60], 'each prefix is the uncompressed length');
});

test('compressionLevel: zstd levels give smaller files on compressible data and read back equal; refused for other codecs and out of range', async (t) => {
  const dir = await tempDir(t);
  const rows = 200_000;
  const bytes = new Uint8Array(Int32Array.from({ length: rows }, (_, i) => Math.floor(i / 7) % 1000).buffer);
  const sizes: number[] = [];
  for (const level of [1, 19]) {
    const path = join(dir, `level${level}.feather`);
    const writer = await arrowCreateWriter(path, { tensors: [{ name: 'n', dtype: 'int32', shape: [rows] }], formatOptions: { compression: 'zstd', compressionLevel: level, columns: 'separate' } });
    await writer.add('n', bytes);
    await writer.close();
    sizes.push(statSync(path).size);
    const reader = await arrowOpen(path, { formatOptions: { columns: 'separate' } });
    try {
      const tensor = await reader.read('n');
      assert.deepEqual(tensor.shape, [rows]);
      assert.ok(Buffer.from(tensor.data).equals(bytes), `level ${level} reads back equal`);
    } finally {
      await reader.close();
    }
  }
  assert.ok(sizes[1]! < sizes[0]!, `level 19 (${sizes[1]} bytes) is smaller than level 1 (${sizes[0]} bytes)`);
  // The option goes through `convert`'s checked write options too.
  const converted = join(dir, 'converted.feather');
  await convert(join(dir, 'level1.feather'), converted, { to: 'arrow', readOptions: { columns: 'separate' }, writeOptions: { columns: 'separate', compression: 'zstd', compressionLevel: 19 } });
  assert.equal(statSync(converted).size, sizes[1], 'convert with compressionLevel 19 writes the level-19 file');
  const refused = async (formatOptions: Record<string, unknown>, pattern: RegExp) => {
    await assert.rejects(
      async () => {
        const writer = await arrowCreateWriter(join(dir, 'refused.feather'), { tensors: [{ name: 'n', dtype: 'int32', shape: [rows] }], formatOptions });
        await writer.add('n', bytes);
        await writer.close();
      },
      (error: unknown) => error instanceof TensioError && error.code === 'INVALID_ARGUMENT' && pattern.test(error.message),
    );
  };
  await refused({ compression: 'lz4', compressionLevel: 3 }, /zstd only/);
  await refused({ compression: 'zstd', compressionLevel: 40 }, /-7 to 22/);
});

const oracle = oracleSkip('pyarrow', 'polars');

test('tensio-written lz4 and zstd Feather files pass pyarrow full validation and read equal in polars', { skip: oracle }, async (t) => {
  const dir = await tempDir(t);
  const rows = 5000;
  const a = Float64Array.from({ length: rows }, (_, i) => i / 3);
  const b = Uint8Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? 1 : 0));
  const c = Int32Array.from({ length: rows * 4 }, (_, i) => i - 7);
  for (const compression of ['none', 'lz4', 'zstd'] as const) {
    const path = join(dir, `p_${compression}.feather`);
    const writer = await arrowCreateWriter(path, {
      tensors: [{ name: 'a', dtype: 'float64', shape: [rows] }, { name: 'b', dtype: 'bool', shape: [rows] }, { name: 'c', dtype: 'int32', shape: [rows, 2, 2] }],
      formatOptions: { compression, columns: 'separate', batchRows: 1500 },
    });
    await writer.add('a', new Uint8Array(a.buffer));
    await writer.add('b', b);
    await writer.add('c', new Uint8Array(c.buffer));
    await writer.close();
    const out = JSON.parse(runPython(String.raw`
import sys, json, warnings
import pyarrow.feather as feather, polars as pl
warnings.simplefilter('ignore')
table = feather.read_table(sys.argv[1])
table.validate(full=True)
frame = pl.read_ipc(sys.argv[1], memory_map=False)
print(json.dumps({'batches': len(table.to_batches()), 'a': frame['a'].to_list(), 'b': [int(x) for x in frame['b'].to_list()],
                  'c': [x for row in frame['c'].to_list() for x in row]}))
`, [path]).stdout);
    assert.equal(out.batches, 4, `${compression}: 5000 rows in batches of 1500`);
    assert.deepEqual(out.a, [...a], `${compression}: float64 column in polars`);
    assert.deepEqual(out.b, [...b], `${compression}: bool column in polars`);
    assert.deepEqual(out.c, [...c], `${compression}: fixed-shape tensor column's values in polars`);
    assert.ok(readFileSync(path).subarray(0, 6).equals(Buffer.from('ARROW1')));
  }
});
