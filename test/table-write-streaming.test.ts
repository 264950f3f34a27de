/**
 * Table writers with separate columns (each tensor its own column) stream: `add()` keeps
 * each tensor's stream and `close()` pulls one band of rows from every stream in turn, so
 * no whole tensor is ever held. Proven by what the streams were asked for, not by timing
 * or RSS: while a band is written, no stream is more than a band (plus one chunk) ahead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTensioError } from '../src/core/errors.js';
import { arrowCreateWriter, arrowOpen } from '../src/formats/arrow/index.js';
import { parquetCreateWriter, parquetOpen } from '../src/formats/parquet/index.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { bytesSource } from '../src/storage/byte-source.js';

const ROWS = 10_000;
const CHUNK_ROWS = 250;
const BAND_ROWS = 1000;
const NAMES = ['a', 'b', 'c'] as const;

/** The two table writers with separate columns, a band of BAND_ROWS rows each. */
const SEPARATE_WRITERS = [
  { name: 'parquet', create: parquetCreateWriter, open: parquetOpen, formatOptions: { columns: 'separate', rowGroupSize: BAND_ROWS } },
  { name: 'arrow', create: arrowCreateWriter, open: arrowOpen, formatOptions: { columns: 'separate', batchRows: BAND_ROWS } },
] as const;

function columnValues(index: number): Float64Array {
  return Float64Array.from({ length: ROWS }, (_, row) => row * 3 + index + 0.25);
}

test('separate columns: close() pulls a band from each stream in turn; nothing runs more than a band ahead; the table reads back equal', async () => {
  for (const { name, create, open, formatOptions } of SEPARATE_WRITERS) {
    const sink = memorySink();
    const writer = await create(sink, { tensors: NAMES.map((tensor) => ({ name: tensor, dtype: 'float64' as const, shape: [ROWS] })), formatOptions });
    const pulled = NAMES.map(() => 0);
    let widestLead = 0;
    async function* stream(index: number) {
      const bytes = new Uint8Array(columnValues(index).buffer);
      for (let row = 0; row < ROWS; row += CHUNK_ROWS) {
        pulled[index] = row + CHUNK_ROWS;
        widestLead = Math.max(widestLead, Math.max(...pulled) - Math.min(...pulled));
        yield bytes.subarray(row * 8, (row + CHUNK_ROWS) * 8);
      }
    }
    for (const [index, tensor] of NAMES.entries()) await writer.add(tensor, stream(index));
    // add() read nothing: every stream waits for close().
    assert.deepEqual(pulled, [0, 0, 0], `${name}: streams read before close()`);
    await writer.close();
    assert.deepEqual(pulled, [ROWS, ROWS, ROWS], name);
    assert.ok(widestLead <= BAND_ROWS + CHUNK_ROWS, `${name}: one stream ran ${widestLead} rows ahead of another (a band is ${BAND_ROWS})`);
    const reader = await open(bytesSource(sink.bytes()), { formatOptions: { columns: 'separate' } });
    for (const [index, tensor] of NAMES.entries()) {
      assert.deepEqual(new Float64Array((await reader.read(tensor)).data.slice().buffer), columnValues(index), `${name}: ${tensor}`);
    }
    await reader.close();
  }
});

test('separate columns: a stream shorter or longer than its tensor is SIZE_MISMATCH at close(); abort() lets unread streams go', async () => {
  const spec = (tensor: string) => ({ name: tensor, dtype: 'float32' as const, shape: [100] });
  for (const rows of [99, 101]) {
    const writer = await parquetCreateWriter(memorySink(), { tensors: [spec('x'), spec('y')], formatOptions: { columns: 'separate', rowGroupSize: 30 } });
    await writer.add('x', new Uint8Array(400));
    await writer.add('y', (async function* () { yield new Uint8Array(rows * 4); })());
    await assert.rejects(writer.close(), (error) => isTensioError(error) && error.code === 'SIZE_MISMATCH', `${rows} rows`);
    await writer.abort();
  }
  // A stream left half-read by a failed close() is ended by abort(), so its reader can let go.
  let released = false;
  const writer = await arrowCreateWriter(memorySink(), { tensors: [spec('x'), spec('y')], formatOptions: { columns: 'separate', batchRows: 30 } });
  await writer.add('x', new Uint8Array(99 * 4));
  await writer.add('y', (async function* () {
    try {
      for (let row = 0; row < 100; row += 10) yield new Uint8Array(40);
    } finally {
      released = true;
    }
  })());
  await assert.rejects(writer.close(), (error) => isTensioError(error) && error.code === 'SIZE_MISMATCH');
  assert.equal(released, false, 'y is still open after the failed close()');
  await writer.abort();
  assert.equal(released, true, 'abort() ended y');
});

test('convert into a writer that holds its streams together reads them into buffers (copy: true), not as views of memory maps that would stay resident; other writers keep mapped views', async () => {
  const { getFormat } = await import('../src/operations/registry.js');
  const { convertReader } = await import('../src/operations/convert.js');
  const { openTensorFile } = await import('../src/operations/open.js');
  const file = memorySink();
  const writer = await getFormat('safetensors').createWriter!(file, { tensors: NAMES.map((tensor) => ({ name: tensor, dtype: 'float64' as const, shape: [ROWS] })) });
  for (const [index, tensor] of NAMES.entries()) await writer.add(tensor, new Uint8Array(columnValues(index).buffer));
  await writer.close();
  for (const [to, copied] of [['parquet', true], ['arrow', true], ['npz', false]] as const) {
    const reader = await openTensorFile(bytesSource(file.bytes()), { format: 'safetensors' });
    const asked: (boolean | undefined)[] = [];
    const stream = reader.stream.bind(reader);
    const watched = Object.assign(Object.create(reader) as typeof reader, {
      stream: (name: string, options?: Parameters<typeof reader.stream>[1]) => {
        asked.push(options?.copy);
        return stream(name, options);
      },
    });
    const sink = memorySink();
    await convertReader(watched, sink, { to, ...(to === 'npz' ? {} : { writeOptions: { columns: 'separate' } }) } as never);
    await reader.close();
    assert.deepEqual(asked, NAMES.map(() => (copied ? true : undefined)), to);
  }
});

test('separate columns from streams that reuse one buffer for every chunk: bands taken as views of a chunk or assembled across chunks read back equal', async () => {
  for (const chunkRows of [2500, 300, 1000]) {
    for (const { name, create, open, formatOptions } of SEPARATE_WRITERS) {
      const sink = memorySink();
      const writer = await create(sink, { tensors: NAMES.map((tensor) => ({ name: tensor, dtype: 'float64' as const, shape: [ROWS] })), formatOptions });
      async function* stream(index: number) {
        const values = columnValues(index);
        const reused = new Float64Array(chunkRows);
        for (let row = 0; row < ROWS; row += chunkRows) {
          const rows = Math.min(chunkRows, ROWS - row);
          reused.set(values.subarray(row, row + rows));
          yield new Uint8Array(reused.buffer, 0, rows * 8);
          reused.fill(-1); // the producer reuses its buffer once the chunk was pulled past
        }
      }
      for (const [index, tensor] of NAMES.entries()) await writer.add(tensor, stream(index));
      await writer.close();
      const reader = await open(bytesSource(sink.bytes()), { formatOptions: { columns: 'separate' } });
      for (const [index, tensor] of NAMES.entries()) {
        assert.deepEqual(new Float64Array((await reader.read(tensor)).data.slice().buffer), columnValues(index), `${name}, chunks of ${chunkRows} rows: ${tensor}`);
      }
      await reader.close();
    }
  }
});
