/**
 * zarr-python's metadata documents (`../shared/corpora/zarr/zarr-metadata-json`, 60 files):
 * every array, group and consolidated document, chunk grid, chunk key encoding, codec and
 * data-type fill value, read by tensio's metadata parser. Valid documents of what tensio
 * reads parse to what they say (fill values to their exact bytes, int64/uint64 extremes
 * included; chunk keys as the encoding names them; codecs decode a chunk an independent
 * encoder wrote); valid documents of what tensio does not read (rectilinear grids,
 * datetime/struct/string types, the cast_value and scale_offset codecs) are refused with
 * a code that says so — never a crash, never a wrong number.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { crc32c as nodeCrc32c } from '@node-rs/crc32';
import { isTensioError } from '../src/core/errors.js';
import { zarrOpen } from '../src/formats/zarr/index.js';
import { fillBytes, zarrChunkKey, zarrParseJson, zarrParseV2Array, zarrParseV3Array } from '../src/formats/zarr/read.js';
import { zarrChunkDecoder } from '../src/formats/zarr/codecs.js';
import type { ZarrArrayMeta } from '../src/formats/zarr/types.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

const CORPUS = 'corpora/zarr/zarr-metadata-json';
const skip = sharedSkip(CORPUS);
const here = (relative: string) => join(sharedFile(CORPUS)!, relative);
const text = (relative: string) => readFile(here(relative), 'utf8');
const encoder = new TextEncoder();
const parse = (json: string, key = 'zarr.json') => zarrParseJson(encoder.encode(json), key);

/** The cases of a `cases.json`/`fill_values.json` file as raw JSON text per case (one case per line), so big integers keep their digits. */
async function rawCases(relative: string): Promise<[string, string][]> {
  const source = await text(relative);
  const parsed = JSON.parse(source) as Record<string, unknown>;
  const names = Object.keys(parsed);
  // Multi-line cases (codec objects) round-trip through JSON.parse exactly; one-line ones are cut from the text.
  return names.map((name) => {
    const line = new RegExp(`^\\s*"${name}":\\s*(.*?),?\\s*$`, 'm').exec(source);
    const raw = line && !line[1]!.endsWith('{') ? line[1]! : JSON.stringify(parsed[name]);
    return [name, raw];
  });
}

/** A v3 array document around the given raw JSON pieces. */
function arrayDoc(parts: { shape?: number[]; chunks?: number[]; dataType?: string; fill?: string; codecs?: string; keyEncoding?: string; grid?: string }): string {
  const shape = parts.shape ?? [8];
  return `{"zarr_format": 3, "node_type": "array", "shape": ${JSON.stringify(shape)}, "data_type": ${parts.dataType ?? '"int16"'},
    "chunk_grid": ${parts.grid ?? JSON.stringify({ name: 'regular', configuration: { chunk_shape: parts.chunks ?? shape } })},
    "chunk_key_encoding": ${parts.keyEncoding ?? '{"name": "default"}'}, "fill_value": ${parts.fill ?? '0'}, "codecs": ${parts.codecs ?? '[{"name": "bytes"}]'}}`;
}

function asMeta(found: ReturnType<typeof zarrParseV3Array>, what: string): ZarrArrayMeta {
  assert.ok(!('reason' in found), `${what}: ${'reason' in found ? found.reason : ''}`);
  return found as ZarrArrayMeta;
}

function expectCode(fn: () => unknown, code: string, what: string): void {
  assert.throws(fn, (error) => isTensioError(error, code as never) || assert.fail(`${what}: expected ${code}, got ${String(error)}`), what);
}

test('v3 array documents: the ones tensio reads parse to what they say; rectilinear grids are UNSUPPORTED_FEATURE; a datetime type is listed as not a tensor', { skip }, async () => {
  const files = (await readdir(here('v3/array'))).sort();
  assert.equal(files.length, 12);
  const outcomes: Record<string, string> = {};
  for (const file of files) {
    const doc = parse(await text(`v3/array/${file}`), file);
    try {
      const found = zarrParseV3Array('a', doc);
      outcomes[file] = 'reason' in found ? 'not a tensor' : 'read';
    } catch (error) {
      assert.ok(isTensioError(error), `${file}: ${String(error)}`);
      outcomes[file] = (error as { code: string }).code;
    }
  }
  assert.deepEqual(outcomes, {
    'blosc_codec.json': 'read', 'datatype_named_config.json': 'not a tensor', 'gzip_codec.json': 'read',
    'rectilinear_grid.json': 'UNSUPPORTED_FEATURE', 'rectilinear_grid_with_rle.json': 'UNSUPPORTED_FEATURE',
    'regular_grid_default_encoding.json': 'read', 'regular_grid_v2_encoding.json': 'read', 'sharding_indexed_codec.json': 'read',
    'transpose_and_crc32c_codecs.json': 'read', 'with_extra_field.json': 'read', 'with_optionals.json': 'read', 'zstd_codec.json': 'read',
  });
  const optionals = asMeta(zarrParseV3Array('a', parse(await text('v3/array/with_optionals.json'))), 'with_optionals');
  assert.deepEqual([optionals.shape, optionals.chunkShape, optionals.dtype], [[10, 20, 30], [5, 10, 15], 'float64']);
  assert.deepEqual([...optionals.fillValue], [0, 0, 0, 0, 0, 0, 0xf8, 0x7f]); // "NaN": the canonical quiet NaN
  assert.deepEqual(optionals.attributes, { description: 'fixture exercising optional fields', tags: ['test', 'metadata'] });
  const v2Keys = asMeta(zarrParseV3Array('a', parse(await text('v3/array/regular_grid_v2_encoding.json'))), 'v2 encoding');
  assert.equal(zarrChunkKey(v2Keys, [1]), '1');
  const transposed = asMeta(zarrParseV3Array('a', parse(await text('v3/array/transpose_and_crc32c_codecs.json'))), 'transpose');
  assert.deepEqual(transposed.codecs.map((codec) => codec.name), ['transpose', 'bytes', 'crc32c']);
  const sharded = asMeta(zarrParseV3Array('a', parse(await text('v3/array/sharding_indexed_codec.json'))), 'sharding');
  assert.ok(sharded.sharding, 'sharding_indexed is read as sharding');
  // An extension field that must be understood is refused; with must_understand false it is ignored (with_extra_field above).
  expectCode(() => zarrParseV3Array('a', parse(arrayDoc({}).replace(/}$/, ', "my_extension": {"must_understand": true}}'))), 'UNSUPPORTED_FEATURE', 'must_understand');
});

/** Little-endian bytes of one float (or its special name or hex bit pattern) of `bytes` width, computed here without tensio. */
function floatBytes(value: unknown, bytes: 2 | 4 | 8): number[] {
  if (typeof value === 'string' && value.startsWith('0x')) {
    const hex = value.slice(2).padStart(bytes * 2, '0');
    return Array.from({ length: bytes }, (_, i) => Number.parseInt(hex.slice((bytes - 1 - i) * 2, (bytes - i) * 2), 16));
  }
  const number = value === 'NaN' ? Number.NaN : value === 'Infinity' ? Infinity : value === '-Infinity' ? -Infinity : (value as number);
  if (bytes === 2) {
    // The float16 cases are 0, NaN and the infinities.
    const bits = Number.isNaN(number) ? 0x7e00 : number === Infinity ? 0x7c00 : number === -Infinity ? 0xfc00 : number === 0 ? 0 : assert.fail(`no float16 pattern for ${number}`);
    return [bits & 0xff, bits >> 8];
  }
  const view = new DataView(new ArrayBuffer(bytes));
  if (bytes === 4) view.setFloat32(0, number, true);
  else view.setFloat64(0, number, true);
  return [...new Uint8Array(view.buffer)];
}

const INTEGER_BITS: Record<string, number> = { int8: 8, uint8: 8, int16: 16, uint16: 16, int32: 32, uint32: 32, int64: 64, uint64: 64 };
const FLOAT_BYTES: Record<string, 2 | 4 | 8> = { float16: 2, float32: 4, float64: 8 };

function expectedFill(type: string, raw: string): number[] {
  if (type in INTEGER_BITS) {
    const bits = BigInt.asUintN(INTEGER_BITS[type]!, BigInt(raw));
    return Array.from({ length: INTEGER_BITS[type]! / 8 }, (_, i) => Number((bits >> BigInt(8 * i)) & 0xffn));
  }
  if (type === 'bool') return [JSON.parse(raw) ? 1 : 0];
  if (type in FLOAT_BYTES) return floatBytes(JSON.parse(raw), FLOAT_BYTES[type]!);
  const half = type === 'complex64' ? 4 : 8;
  const [real, imaginary] = JSON.parse(raw) as unknown[];
  return [...floatBytes(real, half), ...floatBytes(imaginary, half)];
}

test('v3 data types: every fill value of every numeric type parses to its exact bytes (int64/uint64 extremes, NaN and hex bit patterns, complex); other types are not tensors', { skip }, async () => {
  const types = (await readdir(here('v3/data_type'))).sort();
  const numeric = ['bool', 'complex128', 'complex64', 'float16', 'float32', 'float64', 'int16', 'int32', 'int64', 'int8', 'uint16', 'uint32', 'uint64', 'uint8'];
  let checked = 0;
  for (const type of types) {
    if (!numeric.includes(type)) {
      // bytes, raw, string, struct, numpy datetime64/timedelta64: each fill value's array is listed as not a tensor, never a crash.
      const named = (await readdir(here(`v3/data_type/${type}`))).includes('data_type.json');
      const dataType = named ? await text(`v3/data_type/${type}/data_type.json`) : JSON.stringify(type === 'raw' ? 'r32' : type);
      for (const [name, raw] of await rawCases(`v3/data_type/${type}/fill_values.json`)) {
        const found = zarrParseV3Array('a', parse(arrayDoc({ dataType, fill: raw })));
        assert.ok('reason' in found, `${type} ${name}: expected "not a tensor"`);
      }
      continue;
    }
    for (const [name, raw] of await rawCases(`v3/data_type/${type}/fill_values.json`)) {
      const meta = asMeta(zarrParseV3Array('a', parse(arrayDoc({ dataType: JSON.stringify(type), fill: raw }))), `${type} ${name}`);
      assert.deepEqual([...meta.fillValue], expectedFill(type, raw), `${type} ${name} = ${raw}`);
      checked += 1;
    }
  }
  assert.ok(checked >= 50, `checked ${checked} fill values`);
  // The same extremes in a v2 .zarray (zarr-python 2 writes them as bare JSON numbers too).
  const v2 = zarrParseV2Array('a', parse('{"zarr_format": 2, "shape": [1], "chunks": [1], "dtype": "<u8", "compressor": null, "filters": null, "order": "C", "fill_value": 18446744073709551615}', '.zarray'), {});
  assert.deepEqual([...(v2 as ZarrArrayMeta).fillValue], [255, 255, 255, 255, 255, 255, 255, 255]);
  assert.deepEqual([...fillBytes('a', 'int64', '9223372036854775807')], [255, 255, 255, 255, 255, 255, 255, 127]);
});

test('v3 chunk grids and chunk key encodings: regular grids parse, rectilinear ones are UNSUPPORTED_FEATURE; every key encoding (short-hand names too) names chunks as zarr does', { skip }, async () => {
  for (const [name, raw] of await rawCases('v3/chunk_grid/regular/cases.json')) {
    const chunks = (JSON.parse(raw) as { configuration: { chunk_shape: number[] } }).configuration.chunk_shape;
    const meta = asMeta(zarrParseV3Array('a', parse(arrayDoc({ shape: chunks.map((side) => side * 3), grid: raw }))), name);
    assert.deepEqual(meta.chunkShape, chunks, name);
  }
  for (const [name, raw] of await rawCases('v3/chunk_grid/rectilinear/cases.json')) {
    expectCode(() => zarrParseV3Array('a', parse(arrayDoc({ shape: [100, 50], grid: raw }))), 'UNSUPPORTED_FEATURE', name);
  }
  const expected: Record<string, string> = {
    'default/no_configuration': 'c/1/2', 'default/slash_separator': 'c/1/2', 'default/dot_separator': 'c.1.2', 'default/short_hand_name': 'c/1/2',
    'v2/no_configuration': '1.2', 'v2/dot_separator': '1.2', 'v2/slash_separator': '1/2', 'v2/short_hand_name': '1.2',
  };
  const seen: string[] = [];
  for (const encoding of ['default', 'v2']) {
    for (const [name, raw] of await rawCases(`v3/chunk_key_encoding/${encoding}/cases.json`)) {
      const meta = asMeta(zarrParseV3Array('a', parse(arrayDoc({ shape: [8, 8], chunks: [2, 2], keyEncoding: raw }))), name);
      assert.equal(zarrChunkKey(meta, [1, 2]), expected[`${encoding}/${name}`], `${encoding}/${name}`);
      seen.push(`${encoding}/${name}`);
    }
  }
  assert.deepEqual(seen.sort(), Object.keys(expected).sort());
});

/** The int16 values of decoded bytes (a copy: a Node Buffer's slice() is a view of a shared pool). */
const int16s = (bytes: Uint8Array): number[] => [...new Int16Array(new Uint8Array(bytes).buffer)];

/** A chunk of 8 int16 values [1..8] as the codec case would store it, encoded here by an independent encoder; undefined when tensio is not meant to decode it. */
async function storedChunk(codec: string, config: Record<string, unknown>, values: Int16Array): Promise<Uint8Array | undefined> {
  const raw = new Uint8Array(values.buffer.slice(0));
  switch (codec) {
    case 'bytes': {
      if (config.endian !== 'big') return raw;
      const swapped = new Uint8Array(raw.byteLength);
      for (let i = 0; i < raw.byteLength; i += 2) [swapped[i], swapped[i + 1]] = [raw[i + 1]!, raw[i]!];
      return swapped;
    }
    case 'gzip': return gzipSync(raw, { level: Number(config.level ?? 1) });
    case 'crc32c': {
      const out = new Uint8Array(raw.byteLength + 4);
      out.set(raw);
      new DataView(out.buffer).setUint32(raw.byteLength, nodeCrc32c(Buffer.from(raw)) >>> 0, true);
      return out;
    }
    case 'zstd': {
      const module = (await import('@mongodb-js/zstd')) as unknown as { default?: unknown };
      const zstd = (module.default ?? module) as { compress(data: Buffer, level?: number): Promise<Buffer> };
      return new Uint8Array(await zstd.compress(Buffer.from(raw), Number(config.level ?? 3)));
    }
    case 'blosc': {
      const blosc = (await import('numcodecs/blosc')).default as unknown as { fromConfig(c: Record<string, unknown>): { encode(d: Uint8Array): Promise<Uint8Array> } };
      const shuffle = { noshuffle: 0, shuffle: 1, bitshuffle: 2 }[String(config.shuffle)] ?? 0;
      return blosc.fromConfig({ id: 'blosc', cname: config.cname, clevel: config.clevel, shuffle, blocksize: config.blocksize ?? 0 }).encode(raw);
    }
    default: return undefined;
  }
}

test('v3 codecs: every case of the codecs tensio reads decodes a chunk written by another encoder; transpose and sharding parse; cast_value and scale_offset are refused by name at read', { skip }, async () => {
  const codecs = (await readdir(here('v3/codec'))).sort();
  assert.deepEqual(codecs, ['blosc', 'bytes', 'cast_value', 'crc32c', 'gzip', 'scale_offset', 'sharding_indexed', 'transpose', 'zstd']);
  const values = new Int16Array([1, 2, 3, 4, 5, 6, 7, 8]);
  let decoded = 0;
  for (const codec of codecs) {
    for (const [name, raw] of await rawCases(`v3/codec/${codec}/cases.json`)) {
      const spec = JSON.parse(raw) as string | { name: string; configuration?: Record<string, unknown> };
      const config = typeof spec === 'string' ? {} : spec.configuration ?? {};
      const what = `${codec}/${name}`;
      if (codec === 'sharding_indexed') {
        const inner = config.chunk_shape as number[];
        const meta = asMeta(zarrParseV3Array('a', parse(arrayDoc({ shape: inner.map((side) => side * 4), chunks: inner.map((side) => side * 2), codecs: `[${raw}]` }))), what);
        assert.deepEqual([meta.sharding?.innerChunkShape, meta.sharding?.indexLocation], [inner, 'end'], what);
        continue;
      }
      if (codec === 'transpose') {
        // order [2, 1, 0] of a 2×2×2 chunk: stored C order of the transposed chunk.
        const meta = asMeta(zarrParseV3Array('a', parse(arrayDoc({ shape: [2, 2, 2], codecs: `[${raw}, {"name": "bytes"}]` }))), what);
        const stored = new Int16Array(8);
        for (let i = 0; i < 2; i += 1) for (let j = 0; j < 2; j += 1) for (let k = 0; k < 2; k += 1) stored[k * 4 + j * 2 + i] = values[i * 4 + j * 2 + k]!;
        const out = await zarrChunkDecoder(meta)(new Uint8Array(stored.buffer));
        assert.deepEqual(int16s(out), [...values], what);
        decoded += 1;
        continue;
      }
      const arrayToArray = codec === 'cast_value' || codec === 'scale_offset';
      const pipeline = codec === 'bytes' ? `[${raw}]` : arrayToArray ? `[${raw}, {"name": "bytes"}]` : `[{"name": "bytes"}, ${raw}]`;
      const meta = asMeta(zarrParseV3Array('a', parse(arrayDoc({ codecs: pipeline }))), what);
      const stored = await storedChunk(codec, config, values);
      if (stored === undefined) {
        await assert.rejects(zarrChunkDecoder(meta)(new Uint8Array(16)), (error) => isTensioError(error, 'UNSUPPORTED_FEATURE') && (error as Error).message.includes(codec), what);
        continue;
      }
      const out = await zarrChunkDecoder(meta)(stored);
      assert.deepEqual(int16s(out), [...values], what);
      decoded += 1;
    }
  }
  assert.ok(decoded >= 12, `decoded ${decoded} codec cases`);
});

async function writeStore(dir: string, files: Record<string, string>): Promise<string> {
  for (const [key, value] of Object.entries(files)) {
    await mkdir(dirname(join(dir, key)), { recursive: true });
    await writeFile(join(dir, key), value);
  }
  return dir;
}

test('v2 array, group and consolidated documents and v3 group and consolidated documents open as stores: arrays, groups and attributes as written; a structured dtype is listed as not a tensor', { skip }, async (t) => {
  const dir = await tempDir(t);
  const v2Arrays = (await readdir(here('v2/array'))).sort();
  for (const file of v2Arrays) {
    const found = zarrParseV2Array('a', parse(await text(`v2/array/${file}`), file), {});
    assert.equal('reason' in found, file === 'structured_dtype.json', file);
  }
  const blosc = zarrParseV2Array('a', parse(await text('v2/array/blosc_compressor_with_filters.json')), {}) as ZarrArrayMeta;
  assert.deepEqual(blosc.codecs.map((codec) => codec.name), ['delta', 'blosc']);

  const v2 = await writeStore(join(dir, 'v2.zarr'), { '.zmetadata': await text('v2/consolidated/with_array_and_group.json'), '.zgroup': await text('v2/group/minimal.json') });
  {
    await using reader = await zarrOpen(v2);
    assert.deepEqual([reader.metadata.consolidated, reader.metadata.attributes, reader.tensors.map((info) => [info.name, info.dtype, info.shape])], [true, { description: 'root group attrs' }, [['data', 'int32', [100]]]]);
    assert.deepEqual(reader.info('data').extras?.attributes, { units: 'meters' });
    // No chunk was written: the array reads as its fill value.
    assert.deepEqual([...new Int32Array((await reader.read('data', { slice: { start: 0, end: 3 } })).data.slice().buffer)], [0, 0, 0]);
  }
  const minimalV2 = await writeStore(join(dir, 'minimal-v2.zarr'), { '.zmetadata': await text('v2/consolidated/minimal.json'), '.zgroup': '{"zarr_format": 2}' });
  {
    await using reader = await zarrOpen(minimalV2);
    assert.deepEqual(reader.tensors, []);
  }

  for (const group of (await readdir(here('v3/group'))).sort()) {
    const path = await writeStore(join(dir, `group-${group}.zarr`), { 'zarr.json': await text(`v3/group/${group}`) });
    await using reader = await zarrOpen(path);
    assert.deepEqual(reader.tensors, [], group);
    if (group === 'with_attributes.json') assert.deepEqual(reader.metadata.attributes, { label: 'root', spatial_units: ['meter', 'meter'] });
  }
  for (const consolidated of (await readdir(here('v3/consolidated'))).sort()) {
    const root = `{"zarr_format": 3, "node_type": "group", "consolidated_metadata": ${await text(`v3/consolidated/${consolidated}`)}}`;
    const path = await writeStore(join(dir, `consolidated-${consolidated}.zarr`), { 'zarr.json': root });
    await using reader = await zarrOpen(path);
    if (consolidated === 'with_array_and_group.json') {
      assert.equal(reader.metadata.consolidated, true);
      assert.deepEqual(reader.tensors.map((info) => [info.name, info.dtype, info.shape]), [['child_array', 'int32', [10]]]);
      assert.deepEqual(reader.metadata.groups, ['/', 'child_group']);
    }
  }
});
