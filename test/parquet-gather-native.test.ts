/**
 * The native dictionary gather (`native/src/tensio_gather.c` through
 * `formats/parquet/gather-native.ts`) against the JavaScript one (`hybrid-streams.ts`),
 * its oracle: random index streams of RLE runs and bit-packed groups, every bit width 0-32
 * (the addon has a group loop per width), entries of 4 and 8 bytes, odd strides and column offsets, each stream gathered
 * in pieces that continue one another, equal word for word (every word no piece writes
 * stays as it was); an index past the dictionary and a cut stream refused where the
 * JavaScript gather refuses them, with the same reason at the same value; pieces that
 * would write outside the output refused before anything runs. Through the reader:
 * pyarrow's dictionary files read equal with the native gather and with
 * `TENSIO_PARQUET_GATHER=js` (stacked in bands, and column by column, natively for a
 * dictionary of up to 256 KiB), and a page with an index past its dictionary refused with the same
 * TensioError both ways (the general decoder, hyparquet, would read it as a null: NaN),
 * also when a later column's damage is met first on the JavaScript thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DictionaryIndexStream, type DictionaryStreamDamage } from '../src/formats/parquet/hybrid-streams.js';
import { parquetNativeGather } from '../src/formats/parquet/gather-native.js';
import { addonParquetGatherBand, addonParquetGatherBandPlain } from '../src/storage/native-gather.js';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { pageHeader, ThriftCursor } from '../src/formats/parquet/page-headers.js';
import { withEnv } from './helpers/env.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const skip = parquetNativeGather() ? false : 'skipped: the native addon is not loaded or predates parquetGatherBand (run `npm run build:native`)';
const plainSkip = skip || (addonParquetGatherBandPlain() ? false : 'skipped: the native addon predates PLAIN pieces (parquetGatherBandPlain; run `npm run build:native`)');
const SENTINEL = 0xdeadbeef;

/** A seeded generator of integers below `n`. */
function generator(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * n);
  };
}

function varint(value: number, into: number[]): void {
  for (; value >= 128; value = Math.floor(value / 128)) into.push((value % 128) | 0x80);
  into.push(value);
}

/** A values section of `count` indices below `entries`: RLE runs and bit-packed runs (the last padded with zeros), as writers make them. */
function section(count: number, width: number, entries: number, random: (n: number) => number): { bytes: Uint8Array; indices: number[] } {
  const bytes: number[] = [width];
  const indices: number[] = [];
  while (indices.length < count) {
    if (random(10) < 4) {
      const run = Math.min(1 + random(60), count - indices.length);
      const index = random(entries);
      varint(run << 1, bytes);
      for (let b = 0; b < (width + 7) >> 3; b++) bytes.push(Math.floor(index / 2 ** (8 * b)) & 0xff);
      for (let i = 0; i < run; i++) indices.push(index);
    } else {
      const groups = 1 + random(12);
      varint(groups * 2 + 1, bytes);
      const values = Array.from({ length: groups * 8 }, (_, i) => (indices.length + i < count ? random(entries) : 0));
      let bitAt = 0;
      const packed = new Uint8Array(groups * width);
      for (const value of values) {
        for (let b = 0; b < width; b++, bitAt++) if (Math.floor(value / 2 ** b) % 2) packed[bitAt >> 3]! |= 1 << (bitAt & 7);
      }
      bytes.push(...packed);
      indices.push(...values.slice(0, count - indices.length));
    }
  }
  return { bytes: Uint8Array.from(bytes), indices };
}

interface Piece { count: number; first: number }

/** Pieces of `count` values laid in consecutive rows of `stride` words from row `row0`, at `column`. */
function pieces(count: number, stride: number, column: number, row0: number, random: (n: number) => number): Piece[] {
  const out: Piece[] = [];
  for (let done = 0; done < count;) {
    const take = out.length === 3 ? count - done : Math.min(count - done, random(count + 1));
    out.push({ count: take, first: (row0 + done) * stride + column });
    done += take;
  }
  return out;
}

/** How a gather of pieces ended: written, stopped at damage (what, at which value of the stream), or stopped at a run it does not take. */
type Outcome = 'ok' | DictionaryStreamDamage | 'not taken';

/** The JavaScript gather of the pieces in turn. */
function gatherJs(bytes: Uint8Array, dictionary: Uint32Array, entries: number, words: number, list: Piece[], stride: number, out: Uint32Array): Outcome {
  const stream = new DictionaryIndexStream(bytes, dictionary, entries, words);
  return list.every((piece) => stream.gather(piece.count, out, piece.first, stride)) ? 'ok' : stream.damage ?? 'not taken';
}

/** The native gather of the pieces as one job (damage: at a header, by the JavaScript side; at an index, by the job's rejection). */
async function gatherNative(bytes: Uint8Array, dictionary: Uint32Array, entries: number, words: number, list: Piece[], stride: number, out: Uint32Array): Promise<Outcome> {
  const stream = new DictionaryIndexStream(bytes, dictionary, entries, words);
  const job = parquetNativeGather()!();
  for (const piece of list) {
    const start = stream.position;
    const refuse = (value: number, reason: string) => Object.assign(new Error(reason), { damage: { reason, value: start + value } });
    if (!job.add(stream, piece.count, piece.first, stride, refuse)) return stream.damage ?? 'not taken';
  }
  try {
    await job.run(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
    return 'ok';
  } catch (error) {
    const { damage } = error as { damage?: DictionaryStreamDamage };
    assert.ok(damage, String(error));
    return damage;
  }
}

test('native gather: random RLE / bit-packed streams of every width, 4- and 8-byte entries, odd strides and offsets, in continuing pieces, equal to the JavaScript gather; other words untouched', { skip }, async () => {
  const random = generator(11);
  // Every width: the addon has a copy of its group loop for each (tensio_gather.c, gather_groups_of_width).
  const widths = Array.from({ length: 33 }, (_, w) => w);
  for (const width of widths) {
    for (const words of [1, 2]) {
      const entries = width === 0 ? 1 : Math.min(2 ** width, 70_000);
      const dictionary = Uint32Array.from({ length: entries * words }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 0));
      const count = 1 + random(3000);
      const { bytes, indices } = section(count, width, entries, random);
      const stride = words + random(6) | 1;
      const column = random(stride - words + 1);
      const row0 = random(5);
      const list = pieces(count, stride, column, row0, random);
      const size = (row0 + count + 3) * stride;
      const js = new Uint32Array(size).fill(SENTINEL);
      const native = new Uint32Array(size).fill(SENTINEL);
      const what = `width ${width}, ${words} words, stride ${stride}, column ${column}, ${list.length} pieces`;
      assert.equal(gatherJs(bytes, dictionary, entries, words, list, stride, js), 'ok', what);
      assert.equal(await gatherNative(bytes, dictionary, entries, words, list, stride, native), 'ok', what);
      assert.deepEqual(native, js, what);
      // The values themselves, and nothing else written.
      const expected = new Uint32Array(size).fill(SENTINEL);
      indices.forEach((index, i) => { for (let w = 0; w < words; w++) expected[(row0 + i) * stride + column + w] = dictionary[index * words + w]!; });
      assert.deepEqual(native, expected, `${what}: against the indices`);
    }
  }
});

test('native gather: an index past the dictionary and a cut stream are refused where the JavaScript gather refuses them, for the same reason at the same value', { skip }, async () => {
  const random = generator(23);
  let refusedIndex = 0;
  let refusedCut = 0;
  // Stride 67: rows of 268 bytes, about 240 to a native tile (64 KiB), so a refusal may come a few tiles into its piece.
  for (const [width, stride] of [1, 2, 3, 5, 8, 11, 16, 20, 25, 32].flatMap((width) => [[width, 3], [width, 67]] as const)) {
    for (const words of [1, 2]) {
      const entries = Math.min(2 ** width, 5000);
      const dictionary = Uint32Array.from({ length: entries * words }, (_, i) => i);
      const count = 200 + random(800);
      const { bytes, indices } = section(count, width, entries, random);
      const list = pieces(count, stride, 0, 0, random);
      // The largest index used now lies past a dictionary one entry shorter than it.
      const fewer = Math.max(...indices);
      const js = gatherJs(bytes, dictionary, fewer, words, list, stride, new Uint32Array(stride * count + stride));
      const native = await gatherNative(bytes, dictionary, fewer, words, list, stride, new Uint32Array(stride * count + stride));
      assert.deepEqual(native, js, `width ${width}, stride ${stride}: index ${fewer} past ${fewer} entries`);
      if (js !== 'ok') {
        refusedIndex++;
        // The first index at or past `fewer`, named with its value.
        const at = indices.findIndex((index) => index >= fewer);
        assert.deepEqual(js, { reason: `dictionary index ${indices[at]} is past the dictionary's ${fewer} entries`, value: at });
      }
      for (const cut of [1, 1 + random(bytes.byteLength - 1)]) {
        const short = bytes.subarray(0, bytes.byteLength - cut);
        const jsCut = gatherJs(short, dictionary, entries, words, list, stride, new Uint32Array(stride * count + stride));
        const nativeCut = await gatherNative(short, dictionary, entries, words, list, stride, new Uint32Array(stride * count + stride));
        assert.deepEqual(nativeCut, jsCut, `width ${width}, stride ${stride}: ${cut} bytes cut`);
        if (jsCut !== 'ok') refusedCut++;
      }
    }
  }
  assert.ok(refusedIndex >= 28 && refusedCut >= 56, `refusals seen: ${refusedIndex} indices, ${refusedCut} cuts`);
  // A bit-packed index past the dictionary is found by the native job itself (the run headers are sound): its reason names it.
  const gather = addonParquetGatherBand()!;
  const out = new Uint8Array(64).fill(0xee);
  await assert.rejects(gather([Uint8Array.of(2, 3, 0b11100100, 0b00000000)], [new Uint8Array(12)], Float64Array.of(3, 1, 8, 0, 1, 1, 0, 0, 0, 0, 0), out), (error: Error & { code?: string }) => error.code === 'ECORRUPT' && error.message === "piece 0, value 3: dictionary index 3 is past the dictionary's 3 entries");
  await assert.rejects(gather([new Uint8Array(8), Uint8Array.of(33, 2, 0, 0, 0, 0, 0)], [new Uint8Array(4), new Uint8Array(4)], Float64Array.of(1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0), out), (error: Error & { code?: string }) => error.code === 'ECORRUPT' && error.message === 'piece 1, value 0: the dictionary indices\' bit width is 33, over 32');
  // Damage at a later piece's run header (an RLE index past the dictionary, found as the job is made) and a bit-packed
  // index past it in an earlier piece of the same job (only the job would find it): the earlier damage is named, as in JavaScript.
  const twoRuns = Uint8Array.of(2, 0x03, 0b11100100, 0x00, 0x04, 0x03);
  const twoPieces = [{ count: 8, first: 0 }, { count: 2, first: 8 * 5 }];
  const jsTwo = gatherJs(twoRuns, Uint32Array.of(10, 11, 12), 3, 1, twoPieces, 5, new Uint32Array(60));
  assert.deepEqual(jsTwo, { reason: "dictionary index 3 is past the dictionary's 3 entries", value: 3 });
  assert.deepEqual(await gatherNative(twoRuns, Uint32Array.of(10, 11, 12), 3, 1, twoPieces, 5, new Uint32Array(60)), jsTwo);
});

test('native gather: PLAIN pieces (addValues) at any byte offset, 4- and 8-byte values, odd strides, beside a dictionary piece in one job, written to their rows and nothing else', { skip: plainSkip }, async () => {
  const random = generator(29);
  for (const words of [1, 2]) {
    for (const shift of [0, 1, 2, 3, 5]) {
      const count = 1 + random(2000);
      const stride = 2 * words + random(5);
      const row0 = random(4);
      // The values at byte `shift` of their buffer (a v1 page's values after its levels need not be aligned).
      const buffer = new Uint8Array(shift + count * words * 4);
      for (let i = shift; i < buffer.length; i++) buffer[i] = random(256);
      const values = buffer.subarray(shift);
      // A dictionary piece of the same rows in the next column, from a stream of width 3.
      const entries = 8;
      const dictionary = Uint32Array.from({ length: entries * words }, (_, i) => (Math.imul(i + 7, 2654435761) >>> 0));
      const { bytes, indices } = section(count, 3, entries, random);
      const size = (row0 + count + 2) * stride + words;
      const out = new Uint32Array(size).fill(SENTINEL);
      const job = parquetNativeGather()!();
      assert.ok(job.addValues, 'an addon with PLAIN pieces gives jobs addValues');
      job.addValues(values, words, row0 * stride, stride);
      assert.ok(job.add(new DictionaryIndexStream(bytes, dictionary, entries, words), count, row0 * stride + words, stride));
      assert.equal(job.pieces, 2);
      await job.run(new Uint8Array(out.buffer));
      const expected = new Uint32Array(size).fill(SENTINEL);
      const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
      for (let i = 0; i < count; i++) {
        for (let w = 0; w < words; w++) {
          expected[(row0 + i) * stride + w] = view.getUint32((i * words + w) * 4, true);
          expected[(row0 + i) * stride + words + w] = dictionary[indices[i]! * words + w]!;
        }
      }
      assert.deepEqual(out, expected, `${words} words, values at byte ${shift}, stride ${stride}`);
    }
  }
});

test('native gather: pieces that would write outside the output or read past a dictionary are refused before the job runs, nothing written', { skip }, async () => {
  const gather = addonParquetGatherBand()!;
  const section = Uint8Array.of(1, 8 << 1, 0);
  const dictionary = new Uint8Array(16).fill(7);
  const out = new Uint8Array(40).fill(0xee);
  const refused = (params: number[], why: RegExp, dictionaryBytes = dictionary) => assert.throws(() => gather([section], [dictionaryBytes], Float64Array.from(params), out), (error: Error & { code?: string }) => error.code === 'ERANGE' && why.test(error.message));
  // entries, words, count, first, stride, at, left, packed, runAt, bit, index
  refused([2, 1, 8, 3, 1, 1, 0, 0, 0, 0, 0], /past the end of out/); // words 3..10 of 10: the last one is word 10
  refused([2, 2, 4, 0, 3, 1, 0, 0, 0, 0, 0], /past the end of out/); // 2 words at 9 and 10
  refused([2, 1, 2, 0, 2 ** 52, 1, 0, 0, 0, 0, 0], /past the end of out/);
  refused([5, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0], /fewer bytes than its entries/);
  refused([2, 2, 1, 0, 1, 1, 0, 0, 0, 0, 0], /shorter than a value/);
  refused([2, 3, 1, 0, 3, 1, 0, 0, 0, 0, 0], /1 or 2 words/);
  refused([2, 1, 1.5, 0, 1, 1, 0, 0, 0, 0, 0], /whole number/);
  refused([2, 1, -1, 0, 1, 1, 0, 0, 0, 0, 0], /whole number/);
  // A PLAIN piece (packed 2): its values [index, index + count) inside its `entries` (an addon that takes them).
  if (!plainSkip) refused([2, 1, 3, 0, 1, 0, 0, 2, 0, 0, 0], /PLAIN values run past their page/);
  if (!plainSkip) refused([4, 1, 2, 0, 1, 0, 0, 2, 0, 0, 3], /PLAIN values run past their page/);
  assert.ok(out.every((byte) => byte === 0xee), 'nothing written');
  // The last word exactly: accepted and written, the words before untouched.
  await gather([section], [dictionary], Float64Array.of(2, 1, 8, 2, 1, 1, 0, 0, 0, 0, 0), out);
  assert.ok(out.subarray(0, 8).every((byte) => byte === 0xee) && out.subarray(8).every((byte) => byte === 7));
});

/** pyarrow-default dictionary files: of 1.1M rows (a row group placed in bands, then a small one), and a small one whose index to damage. */
const WRITE_FILES = String.raw`
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
rng = np.random.default_rng(3)
n = 1_100_000
cols = {f'c{i}': (rng.integers(0, [3, 300, 16000, 70000, 5][i], n) / 4).astype(np.float32) for i in range(5)}
pq.write_table(pa.table(cols), f'{d}/big.parquet', compression='snappy')
f64 = {f'd{i}': (rng.integers(0, 900, n // 2) / 3).astype(np.float64) for i in range(4)}
f64['d4'] = rng.random(n // 2)  # a dictionary past 1 MiB: PLAIN pages after it (8-byte PLAIN pieces)
pq.write_table(pa.table(f64), f'{d}/big-f64.parquet', compression='snappy')
# pyarrow's fallback from dictionary to PLAIN mid-chunk (random values), beside dictionaries all through: PLAIN pieces in the native job.
fallback = {f'r{i}': (rng.random(n, dtype=np.float32) if i % 2 == 0 else (rng.integers(0, 50, n) / 2).astype(np.float32)) for i in range(5)}
pq.write_table(pa.table(fallback), f'{d}/big-fallback.parquet', compression='snappy')
small = (rng.integers(0, 3, (2 ** 20, 4)) / 2).astype(np.float32)
schema = pa.schema([pa.field(f's{i}', pa.float32(), nullable=False) for i in range(4)])
pq.write_table(pa.table({f's{i}': small[:, i] for i in range(4)}, schema=schema), f'{d}/small.parquet', compression='none', data_page_version='1.0')
`;

test('native gather through the reader: pyarrow dictionary files read equal with it and with TENSIO_PARQUET_GATHER=js, stacked and column by column; a damaged index is refused with the same TensioError both ways', { skip: skip || oracleSkip('pyarrow') }, async (t) => {
  const dir = await tempDir(t);
  runPython(WRITE_FILES, [dir]);
  const readStacked = async (path: string) => {
    await using stacked = await parquetOpen(path);
    return [(await stacked.read(stacked.tensors[0]!.name)).data];
  };
  const readSeparate = async (path: string) => {
    await using separate = await parquetOpen(path, { formatOptions: { columns: 'separate' } });
    const results: Uint8Array[] = [];
    for (const info of separate.tensors) results.push((await separate.read(info.name)).data);
    return results;
  };
  // Which gather ran: the JavaScript one counted.
  const jsGather = DictionaryIndexStream.prototype.gather;
  let jsCalls = 0;
  DictionaryIndexStream.prototype.gather = function (this: DictionaryIndexStream, ...args: Parameters<typeof jsGather>) {
    jsCalls++;
    return jsGather.apply(this, args);
  };
  t.after(() => { DictionaryIndexStream.prototype.gather = jsGather; });
  for (const name of ['big', 'big-f64', 'big-fallback']) {
    const path = join(dir, `${name}.parquet`);
    jsCalls = 0;
    // The big row group alone, stacked: every page gathered natively (the small row group after it is decoded whole and joined by a native job).
    await using first = await parquetOpen(path, { formatOptions: { rows: { start: 0, end: 2 ** 20 } } });
    const banded = (await first.read(first.tensors[0]!.name)).data;
    assert.equal(jsCalls, 0, `${name}: every page of the big row group gathered natively`);
    const native = await readStacked(path);
    const js = await withEnv('TENSIO_PARQUET_GATHER', 'js', () => readStacked(path));
    assert.ok(jsCalls > 100, `${name}: TENSIO_PARQUET_GATHER=js gathers in JavaScript (${jsCalls})`);
    assert.ok(Buffer.from(banded).equals(Buffer.from(js[0]!.subarray(0, banded.byteLength))), `${name}: the big row group alone`);
    native.push(...await readSeparate(path));
    js.push(...await withEnv('TENSIO_PARQUET_GATHER', 'js', () => readSeparate(path)));
    assert.equal(native.length, js.length);
    native.forEach((bytes, i) => assert.ok(Buffer.from(bytes).equals(Buffer.from(js[i]!)), `${name}: tensor ${i}`));
  }
  // Column by column: a dictionary of up to 256 KiB gathered natively (c2: 16,000 entries), a larger one in JavaScript (c3: 70,000).
  await using columns = await parquetOpen(join(dir, 'big.parquet'), { formatOptions: { columns: 'separate' } });
  jsCalls = 0;
  await columns.read('c2');
  assert.equal(jsCalls, 0, 'c2: every page gathered natively');
  await columns.read('c3');
  assert.ok(jsCalls > 10, `c3: gathered in JavaScript (${jsCalls})`);
  // Damage the small file: its first run of indices (width 2, values 0-2) made to hold 3, one past its 3 entries.
  const bytes = new Uint8Array(readFileSync(join(dir, 'small.parquet')));
  const cursor = new ThriftCursor(bytes.subarray(4));
  const dictionary = pageHeader(cursor);
  assert.equal(dictionary.type, 2, 'the dictionary page first');
  cursor.advance(dictionary.compressed);
  pageHeader(cursor);
  let at = 4 + cursor.at;
  assert.equal(bytes[at++], 2, 'indices of 2 bits');
  let header = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = bytes[at++]!;
    header += (byte & 0x7f) * 2 ** shift;
    if (byte < 128) break;
  }
  bytes.fill(header % 2 === 1 ? 0xff : 3, at, at + (header % 2 === 1 ? 8 : 1));
  const damaged = join(dir, 'damaged.parquet');
  writeFileSync(damaged, bytes);
  // Stacked: the row group (16 MiB of columns) is placed in bands, its dictionary pages gathered natively;
  // column by column too (a 3-entry dictionary). Each way refused, not read as NaN (hyparquet's null) nor as stray bytes.
  const outcome = (formatOptions: Record<string, unknown>) => async (): Promise<{ code?: string; message?: string }> => {
    try {
      await using reader = await parquetOpen(damaged, { formatOptions });
      for (const info of reader.tensors) await reader.read(info.name);
      return {};
    } catch (error) {
      return { code: (error as { code?: string }).code, message: (error as Error).message };
    }
  };
  for (const formatOptions of [{}, { columns: 'separate' }]) {
    const native = await outcome(formatOptions)();
    const js = await withEnv('TENSIO_PARQUET_GATHER', 'js', outcome(formatOptions));
    assert.deepEqual(native, js, `${JSON.stringify(formatOptions)}: the same refusal both ways`);
    assert.equal(native.code, 'INVALID_HEADER', native.message);
    assert.match(native.message!, /^parquet: column "s0" in row group 0, data page 0 \(rows 0-\d+\): dictionary index 3 is past the dictionary's 3 entries, at row 0 \(value 0 of the page\)$/);
  }
  // Damage s1 as well, at its first run header (an RLE run of index 3, which the JavaScript thread's skip finds while s0's
  // bit-packed index waits in the band's native job): the first damage in reading order, s0's, is still the one named.
  const walk = new ThriftCursor(bytes.subarray(4));
  let dictionaries = 0;
  for (;;) {
    const page = pageHeader(walk);
    if (page.type === 2 && ++dictionaries === 2) {
      walk.advance(page.compressed);
      break;
    }
    walk.advance(page.compressed);
  }
  pageHeader(walk);
  assert.equal(bytes[4 + walk.at], 2, 's1: indices of 2 bits');
  bytes.set([0x02, 0x03], 4 + walk.at + 1);
  writeFileSync(damaged, bytes);
  const native = await outcome({})();
  const js = await withEnv('TENSIO_PARQUET_GATHER', 'js', outcome({}));
  assert.deepEqual(native, js, 'two damaged columns: the same refusal both ways');
  assert.match(native.message!, /^parquet: column "s0" in row group 0, /);
});
