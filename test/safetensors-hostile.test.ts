/**
 * Hostile safetensors files: one crafted file per reader rule, each refused with its
 * code; and the reference Python `safetensors` must refuse the same file (or, where
 * tensio is deliberately stricter or more lenient, the difference is asserted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError, createTensor, type TensioErrorCode } from '../src/index.js';
import { safetensorsOpen, safetensorsReadHeader, safetensorsSerialize } from '../src/formats/safetensors/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** A file from header text (or bytes), an optional length override and data bytes. */
function craft(header: string | Uint8Array, data: Uint8Array | number = 0, lengthOverride?: bigint): Uint8Array {
  const json = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const payload = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.byteLength + payload.byteLength);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(payload, 8 + json.byteLength);
  return out;
}

const u8 = (name: string, begin: number, end: number, shape = `[${end - begin}]`) => `"${name}":{"dtype":"U8","shape":${shape},"data_offsets":[${begin},${end}]}`;
const valid = safetensorsSerialize({ w: createTensor('float32', [2, 2], new Float32Array([1, 2, 3, 4])), b: createTensor('uint8', [3], new Uint8Array([7, 8, 9])) }, { metadata: { format: 'pt' } });

/** How the reference is expected to treat a file tensio refuses. */
type Reference = 'refuses' | 'accepts';

interface HostileCase {
  name: string;
  bytes: Uint8Array;
  code: TensioErrorCode;
  reference: Reference;
  why?: string;
}

const cases: HostileCase[] = [
  { name: 'shorter than 8 bytes', bytes: new Uint8Array([1, 0, 0, 0, 0]), code: 'HEADER_TOO_SMALL', reference: 'refuses' },
  // Declared longer than the file: not a safetensors file at all (issue 8 bug 8), whatever the limit.
  { name: 'header length over 100 MB in a small file', bytes: craft('{}', 0, 100_000_001n), code: 'INVALID_HEADER', reference: 'refuses' },
  { name: 'header length 2^64-1', bytes: craft('{}', 0, 2n ** 64n - 1n), code: 'INVALID_HEADER', reference: 'refuses' },
  { name: 'header runs past the end of the file', bytes: craft('{}', 0, 1000n), code: 'INVALID_HEADER', reference: 'refuses' },
  { name: 'header is not UTF-8', bytes: craft(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), code: 'INVALID_UTF8', reference: 'refuses' },
  { name: 'header is not JSON', bytes: craft('{"a":'), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'header is a JSON array', bytes: craft('[]'), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'NUL padding after the JSON', bytes: craft('{}\u0000\u0000'), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'byte order mark before the JSON', bytes: craft('\ufeff{}'), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'lone surrogate escape in a name', bytes: craft(`{${u8('a\\ud800', 0, 1)}}`, 1), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'negative dimension', bytes: craft(`{${u8('a', 0, 0, '[-1]')}}`), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'fractional dimension', bytes: craft(`{${u8('a', 0, 1, '[1.0]')}}`, 1), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'dimension as a string', bytes: craft(`{${u8('a', 0, 1, '["1"]')}}`, 1), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'shape null', bytes: craft(`{${u8('a', 0, 1, 'null')}}`, 1), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'one data offset', bytes: craft('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}', 1), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'three data offsets', bytes: craft('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,1]}}', 1), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'dtype is a number', bytes: craft('{"a":{"dtype":5,"shape":[1],"data_offsets":[0,1]}}', 1), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'dtype missing', bytes: craft('{"a":{"shape":[1],"data_offsets":[0,1]}}', 1), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'tensor entry is a string', bytes: craft('{"a":"x"}'), code: 'INVALID_JSON', reference: 'refuses' },
  { name: 'nesting deeper than 128', bytes: craft(`{"__metadata__":{"a":${'['.repeat(200)}${']'.repeat(200)}}}`), code: 'INVALID_JSON', reference: 'refuses' },
  // serde_json's limit of 128 admits 127 levels: the root, the entry and 126 arrays are one too many.
  { name: 'nesting of exactly 128 levels', bytes: craft(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":${'['.repeat(126)}${']'.repeat(126)}}}`, 1), code: 'INVALID_JSON', reference: 'refuses' },
  // The reference keeps the last of two equal keys (serde); identical duplicates collapse silently.
  { name: 'duplicate tensor key', bytes: craft(`{${u8('a', 0, 1)},${u8('a', 0, 1)}}`, 1), code: 'DUPLICATE_KEY', reference: 'accepts', why: 'serde keeps the last duplicate' },
  { name: 'duplicate metadata key', bytes: craft(`{"__metadata__":{"k":"1","k":"2"},${u8('a', 0, 1)}}`, 1), code: 'DUPLICATE_KEY', reference: 'accepts', why: 'serde keeps the last duplicate' },
  { name: 'duplicate field in a tensor entry', bytes: craft('{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}', 1), code: 'DUPLICATE_KEY', reference: 'refuses' },
  // 2^53+1 times 0 elements is a valid empty tensor for the reference (usize math); tensio reads integers exactly or not at all.
  { name: 'integer above 2^53 in a shape', bytes: craft('{"a":{"dtype":"F32","shape":[9007199254740993,0],"data_offsets":[0,0]}}'), code: 'SIZE_OVERFLOW', reference: 'accepts', why: 'u64 arithmetic in Rust' },
  { name: 'metadata is a string', bytes: craft(`{"__metadata__":"x",${u8('a', 0, 1)}}`, 1), code: 'INVALID_METADATA', reference: 'refuses' },
  { name: 'metadata value is a number', bytes: craft(`{"__metadata__":{"k":1},${u8('a', 0, 1)}}`, 1), code: 'INVALID_METADATA', reference: 'refuses' },
  { name: 'hole between tensors', bytes: craft(`{${u8('a', 0, 4)},${u8('b', 8, 12)}}`, 12), code: 'INVALID_OFFSET', reference: 'refuses' },
  { name: 'overlapping tensors', bytes: craft(`{${u8('a', 0, 8)},${u8('b', 4, 12)}}`, 12), code: 'INVALID_OFFSET', reference: 'refuses' },
  { name: 'two tensors sharing bytes', bytes: craft(`{${u8('a', 0, 4)},${u8('b', 0, 4)}}`, 4), code: 'INVALID_OFFSET', reference: 'refuses' },
  { name: 'first tensor not at 0', bytes: craft(`{${u8('a', 4, 8)}}`, 8), code: 'INVALID_OFFSET', reference: 'refuses' },
  { name: 'end before begin', bytes: craft(`{${u8('a', 0, 4)},"b":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, 4), code: 'INVALID_OFFSET', reference: 'refuses' },
  { name: 'element count overflows', bytes: craft('{"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,4]}}', 4), code: 'SIZE_OVERFLOW', reference: 'refuses' },
  // The reference multiplies dims in checked u64 left to right: a later 0 does not undo an overflow.
  { name: 'element count overflows u64 before a zero dimension', bytes: craft('{"a":{"dtype":"U8","shape":[1099511627776,1099511627776,0],"data_offsets":[0,0]}}'), code: 'SIZE_OVERFLOW', reference: 'refuses' },
  { name: 'span shorter than dtype x shape', bytes: craft('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', 4), code: 'SIZE_MISMATCH', reference: 'refuses' },
  { name: 'sub-byte tensor not filling whole bytes', bytes: craft('{"a":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', 2), code: 'SIZE_MISMATCH', reference: 'refuses' },
  { name: 'bytes after the last tensor', bytes: Uint8Array.from([...valid, 0]), code: 'TRAILING_BYTES', reference: 'refuses' },
  { name: 'file cut inside the data', bytes: valid.subarray(0, valid.byteLength - 1), code: 'TRUNCATED', reference: 'refuses' },
];

for (const hostile of cases) {
  test(`safetensors hostile: ${hostile.name} -> ${hostile.code}`, async () => {
    assert.throws(() => safetensorsReadHeader(hostile.bytes), (error) => isTensioError(error, hostile.code));
    await assert.rejects(safetensorsOpen(hostile.bytes), (error) => isTensioError(error, hostile.code));
  });
}

test('safetensors hostile: header-only parse of a file longer than its bytes uses fileSize', () => {
  const header = safetensorsReadHeader(valid.subarray(0, 8 + Number(new DataView(valid.buffer).getBigUint64(0, true))), { fileSize: valid.byteLength });
  assert.equal(header.tensors.length, 2);
  assert.throws(() => safetensorsReadHeader(valid.subarray(0, 20), { fileSize: valid.byteLength }), (error) => isTensioError(error, 'TRUNCATED'));
});

test('safetensors hostile: a text file is "not a safetensors file", not a header over the limit (issue 8 bug 8)', () => {
  const text = new TextEncoder().encode('hello, this is a text file and not tensors at all\n');
  assert.throws(() => safetensorsReadHeader(text), (error) => isTensioError(error, 'INVALID_HEADER') && /not a safetensors file/.test(error.message) && /"hello, t"/.test(error.message) && !/maxHeaderBytes/.test(error.message));
  // Within a file big enough to hold it, a header over the limit is still HEADER_TOO_LARGE.
  assert.throws(() => safetensorsReadHeader(craft('{}', 0, 100_000_001n), { fileSize: 2 ** 30 }), (error) => isTensioError(error, 'HEADER_TOO_LARGE'));
});

test('safetensors hostile: maxHeaderBytes lowers and raises the header limit', () => {
  const headerLength = Number(new DataView(valid.buffer).getBigUint64(0, true));
  assert.throws(() => safetensorsReadHeader(valid, { maxHeaderBytes: headerLength - 1 }), (error) => isTensioError(error, 'HEADER_TOO_LARGE'));
  assert.equal(safetensorsReadHeader(valid, { maxHeaderBytes: headerLength }).tensors.length, 2);
  const big = craft('{}', 0, 100_000_001n);
  assert.throws(() => safetensorsReadHeader(big, { maxHeaderBytes: 200_000_000 }), (error) => isTensioError(error, 'INVALID_HEADER'));
});

test('safetensors hostile: accepted oddities (whitespace, null metadata, extra fields, unknown dtype as opaque)', () => {
  const padded = safetensorsReadHeader(craft(` \n\t{${u8('a', 0, 2)}}\r\n  `, 2));
  assert.deepEqual(padded.tensors.map((t) => t.name), ['a']);
  const nullMetadata = safetensorsReadHeader(craft(`{"__metadata__":null,${u8('a', 0, 1)}}`, 1));
  assert.equal(nullMetadata.hasMetadata, false);
  assert.deepEqual(nullMetadata.metadata, {});
  const extra = safetensorsReadHeader(craft('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"crc":5}}', 1));
  assert.equal(extra.tensors[0]!.byteLength, 1);
  const unknown = safetensorsReadHeader(craft('{"a":{"dtype":"X9","shape":[3],"data_offsets":[0,5]}}', 5));
  assert.equal(unknown.tensors[0]!.dtype, 'opaque');
  assert.equal(unknown.tensors[0]!.formatDtype, 'X9');
  assert.equal(unknown.tensors[0]!.byteLength, 5);
  const deep = safetensorsReadHeader(craft(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":${'['.repeat(125)}${']'.repeat(125)}}}`, 1));
  assert.equal(deep.tensors.length, 1);
  const empty = safetensorsReadHeader(craft('{}'));
  assert.equal(empty.tensors.length, 0);
});

test('safetensors hostile: the reference agrees on every refusal', { skip: oracleSkip('safetensors', 'numpy') }, async (t) => {
  const folder = await tempDir(t);
  const files: string[] = [];
  for (const [index, hostile] of cases.entries()) {
    const path = join(folder, `case-${index}.safetensors`);
    await writeFile(path, hostile.bytes);
    files.push(path);
  }
  const extras = {
    unknownDtype: craft('{"a":{"dtype":"X9","shape":[3],"data_offsets":[0,5]}}', 5),
    whitespace: craft(` \n\t{${u8('a', 0, 2)}}\r\n  `, 2),
  };
  for (const [name, bytes] of Object.entries(extras)) {
    const path = join(folder, `${name}.safetensors`);
    await writeFile(path, bytes);
    files.push(path);
  }
  const script = `
import json, sys
from safetensors import safe_open
out = {}
for path in sys.argv[1:]:
    try:
        with safe_open(path, 'np') as f:
            for k in f.keys():
                f.get_slice(k).get_shape()
        out[path] = 'accepts'
    except Exception as e:
        out[path] = 'refuses'
print(json.dumps(out))
`;
  const verdicts = JSON.parse(runPython(script, files).stdout) as Record<string, Reference>;
  for (const [index, hostile] of cases.entries()) {
    assert.equal(verdicts[files[index]!], hostile.reference, `${hostile.name}: reference ${verdicts[files[index]!]}, expected ${hostile.reference}${hostile.why ? ` (${hostile.why})` : ''}`);
  }
  // tensio is more lenient here on purpose: an unknown dtype is carried as opaque bytes, not a crash.
  assert.equal(verdicts[files[cases.length]!], 'refuses');
  // Both accept JSON whitespace around the header object.
  assert.equal(verdicts[files[cases.length + 1]!], 'accepts');
});

test('safetensors hostile: random mutations of a valid file parse or throw TensioError, nothing else', () => {
  let seed = 99;
  const next = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const headerEnd = 8 + Number(new DataView(valid.buffer).getBigUint64(0, true));
  let refused = 0;
  for (let round = 0; round < 3000; round++) {
    const mutated = valid.slice();
    const edits = 1 + Math.floor(next() * 3);
    for (let e = 0; e < edits; e++) {
      // Mostly inside the length and the header, where the parser looks.
      const at = Math.floor(next() * (next() < 0.9 ? headerEnd : mutated.byteLength));
      mutated[at] = Math.floor(next() * 256);
    }
    const cut = next() < 0.1 ? mutated.subarray(0, Math.floor(next() * mutated.byteLength)) : mutated;
    try {
      safetensorsReadHeader(cut);
    } catch (error) {
      assert.ok(isTensioError(error), `round ${round}: ${String(error)}`);
      refused++;
    }
  }
  assert.ok(refused > 0);
});
