/**
 * `columns: 'separate'` parses the text once: reading every column reads each run of
 * text (or the gzip stream) once from the source, whatever the number of columns, and
 * gives the same values as parsing each column on its own (`usecols: [k]`) and as the
 * stacked array. Counted structurally: the bytes each read asks of the source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { isTensioError } from '../src/core/errors.js';
import { csvOpenSource } from '../src/formats/csv/index.js';
import { CsvColumnStash } from '../src/formats/csv/column-stash.js';
import { convertReader } from '../src/operations/convert.js';
import { openTensorFile } from '../src/operations/open.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { recordingSource } from './helpers/recording-source.js';
import { tempDir } from './helpers/temp.js';

const COLUMNS = 6;
const ROWS = 3000;

/** Text with a header, a comment line, quoted fields, CRLF on some lines and every value exact. */
function makeText(): Uint8Array {
  const lines = ['# made for the test', 'a,b,c,d,e,f'];
  for (let row = 0; row < ROWS; row++) {
    const fields = [
      String(row * 7 - 9000),
      (Math.sin(row) * 1e3).toString(),
      row % 5 === 0 ? '"' + String(row / 4) + '"' : String(row / 4),
      row % 2 === 0 ? '1' : '0',
      Math.fround(Math.cos(row) * 1e-3).toString(),
      row % 11 === 0 ? '' : String(row % 250),
    ];
    lines.push(fields.join(',') + (row % 3 === 0 ? '\r' : ''));
  }
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

const DTYPES = { a: 'int32', d: 'bool', e: 'float32', '*': 'float64' } as const;
const NAMES = ['a', 'b', 'c', 'd', 'e', 'f'];

async function eachColumnAlone(text: Uint8Array): Promise<Map<string, Uint8Array>> {
  const expected = new Map<string, Uint8Array>();
  for (const [k, name] of NAMES.entries()) {
    // One column selected: parsed on its own (no sharing), the reference for the shared parse.
    const reader = await csvOpenSource(bytesSource(text), { columns: 'separate', usecols: [k], dtype: DTYPES, chunkTextBytes: 8192 });
    expected.set(name, (await reader.read(name)).data.slice());
    await reader.close();
  }
  return expected;
}

test('separate columns over plain text: every run read once from the source, values equal to each column parsed alone', async () => {
  const text = makeText();
  const expected = await eachColumnAlone(text);
  const source = recordingSource(text);
  await using reader = await csvOpenSource(source, { columns: 'separate', dtype: DTYPES, chunkTextBytes: 8192 });
  assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype]), [['a', 'int32'], ['b', 'float64'], ['c', 'float64'], ['d', 'bool'], ['e', 'float32'], ['f', 'float64']]);
  assert.ok((reader.tensors[0]!.extras as { runs: number }).runs > 5, 'the text spans several runs');
  const atOpen = source.asked;
  for (const name of NAMES) assert.deepEqual((await reader.read(name)).data, expected.get(name), name);
  // Each run's text once (the runs cover the data records, not the comment and header lines).
  const readText = source.asked - atOpen;
  assert.ok(readText <= text.byteLength, `read ${readText} bytes of a ${text.byteLength}-byte text for ${COLUMNS} columns`);
  assert.ok(readText > text.byteLength * 0.9, `read ${readText} bytes: every run once`);
  // NaN for the missing field of a float column.
  assert.ok(Number.isNaN(new Float64Array(expected.get('f')!.slice().buffer)[0]));
});

test('a spill file holds the columns waiting past the stash budget; reading them back is exact; nothing is left in the temporary folder', async (t) => {
  const dir = await tempDir(t);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  t.after(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });
  const text = makeText();
  const expected = await eachColumnAlone(text);
  const source = recordingSource(text);
  const reader = await csvOpenSource(source, { columns: 'separate', dtype: DTYPES, chunkTextBytes: 8192, columnStashBytes: 4096 });
  const atOpen = source.asked;
  for (const name of NAMES) assert.deepEqual((await reader.read(name)).data, expected.get(name), name);
  assert.ok(source.asked - atOpen <= text.byteLength, 'still one pass over the text');
  // The spill file is unlinked as soon as it is made.
  assert.deepEqual(await readdir(dir), []);
  await reader.close();
  assert.deepEqual(await readdir(dir), []);
});

test('gzip text: one gunzip pass for every column, equal values; a second read of a column is a pass of its own, still equal', async () => {
  const text = makeText();
  const gz = gzipSync(text);
  const expected = await eachColumnAlone(text);
  const source = recordingSource(gz);
  await using reader = await csvOpenSource(source, { columns: 'separate', dtype: DTYPES });
  const atOpen = source.asked;
  for (const name of NAMES) assert.deepEqual((await reader.read(name)).data, expected.get(name), name);
  assert.equal(source.asked - atOpen, gz.byteLength, 'the compressed file read once for all the columns');
  const before = source.asked;
  assert.deepEqual((await reader.read('c')).data, expected.get('c'));
  assert.equal(source.asked - before, gz.byteLength, 'a second read re-reads the stream for that column');
});

test('row slices, a second read, and a column read twice in a row all give the values of the stacked array', async () => {
  const text = makeText();
  await using stacked = await csvOpenSource(bytesSource(text), { chunkTextBytes: 8192 });
  const all = new Float64Array((await stacked.read('data')).data.slice().buffer);
  const column = (k: number, from = 0, to = ROWS) => Float64Array.from({ length: to - from }, (_, row) => all[(from + row) * COLUMNS + k]!);
  await using reader = await csvOpenSource(bytesSource(text), { columns: 'separate', chunkTextBytes: 8192 });
  const view = async (name: string, slice?: { start: number; end: number }) => new Float64Array((await reader.read(name, slice ? { slice } : {})).data.slice().buffer);
  assert.deepEqual(await view('b', { start: 1000, end: 1400 }), column(1, 1000, 1400));
  assert.deepEqual(await view('c'), column(2));
  assert.deepEqual(await view('b'), column(1));
  assert.deepEqual(await view('b'), column(1));
  assert.deepEqual(await view('f', { start: 2990, end: 3000 }), column(5, 2990, 3000));
  assert.deepEqual(await view('f'), column(5));
});

test('a bad field fails only its own column, naming line and column; the others read', async () => {
  const lines = ['x,y,z'];
  for (let row = 0; row < 2000; row++) lines.push(`${row},${row === 1500 ? 'oops' : row / 2},${-row}`);
  const text = new TextEncoder().encode(lines.join('\n') + '\n');
  for (const bytes of [text, gzipSync(text)]) {
    await using reader = await csvOpenSource(bytesSource(bytes), { columns: 'separate', chunkTextBytes: 4096 });
    assert.equal(new Float64Array((await reader.read('x')).data.slice().buffer)[1999], 1999);
    assert.equal(new Float64Array((await reader.read('z')).data.slice().buffer)[1999], -1999);
    await assert.rejects(reader.read('y'), (error) => isTensioError(error, 'INVALID_VALUE') && /line 1502, column 2/.test(error.message));
  }
});

test('separate CSV → Arrow (a table writer pulls one band per column in turn): one pass over the text, the file equal to the stacked read', async () => {
  const text = makeText();
  const source = recordingSource(text);
  const reader = await csvOpenSource(source, { columns: 'separate', chunkTextBytes: 8192 });
  const atOpen = source.asked;
  const sink = memorySink();
  await convertReader(reader, sink, { to: 'arrow', writeOptions: { columns: 'separate' } } as never);
  await reader.close();
  assert.ok(source.asked - atOpen <= text.byteLength, `read ${source.asked - atOpen} bytes of ${text.byteLength}`);
  await using stacked = await csvOpenSource(bytesSource(text), {});
  const all = new Float64Array((await stacked.read('data')).data.slice().buffer);
  await using arrow = await openTensorFile(bytesSource(sink.bytes()), { format: 'arrow', formatOptions: { columns: 'separate' } } as never);
  for (const [k, name] of NAMES.entries()) {
    const values = new Float64Array((await arrow.read(name)).data.slice().buffer);
    assert.deepEqual(values, Float64Array.from({ length: ROWS }, (_, row) => all[row * COLUMNS + k]!), name);
  }
});

test('the column stash: memory up to its budget, then a spill file; without one (unwritable temporary folder) pieces are dropped and the columns parse their runs again, values unchanged', async (t) => {
  const saved = process.env.TMPDIR;
  t.after(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });
  const piece = (seed: number) => Uint8Array.from({ length: 1000 }, (_, i) => (i * seed) & 0xff);
  const stash = new CsvColumnStash(2500);
  for (let column = 0; column < 4; column++) await stash.put(0, column, piece(column + 1));
  assert.deepEqual(stash.stats, { peakMemoryBytes: 2000, spilledBytes: 2000, droppedPieces: 0 });
  for (let column = 3; column >= 0; column--) assert.deepEqual(await stash.take(0, column), piece(column + 1));
  assert.equal(await stash.take(0, 0), undefined);
  await stash.close();

  process.env.TMPDIR = '/nonexistent/tensio-no-such-folder';
  const dropping = new CsvColumnStash(0);
  await dropping.put(0, 1, piece(3));
  assert.equal(dropping.stats.droppedPieces, 1);
  assert.equal(dropping.has(0, 1), false);
  const text = makeText();
  const expected = await eachColumnAlone(text);
  for (const bytes of [text, gzipSync(text)]) {
    await using reader = await csvOpenSource(bytesSource(bytes), { columns: 'separate', dtype: DTYPES, chunkTextBytes: 8192, columnStashBytes: 0 });
    for (const name of NAMES) assert.deepEqual((await reader.read(name)).data, expected.get(name), name);
  }
});
