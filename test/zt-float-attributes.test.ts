/**
 * Whole-number float attributes (`1.0`, `0.0`) survive a `.zt` → `.zt` copy as CBOR
 * floats: a file written by Python (cbor2 canonical CBOR, xxhash), with file attributes
 * and attributes on a dense and on a CSR object, is converted by tensio (convert,
 * compress, decompress, merge, sharded output) and keeps its content id (`tensio id`)
 * and the exact CBOR of every attribute map; Python's cbor2
 * still decodes the floats as floats. Through a format without float marks the marks
 * ride along as `zt.value_types` and are not written as an attribute.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { convert } from '../src/operations/convert.js';
import { mergeTensorFiles } from '../src/operations/merge.js';
import { openTensorFile } from '../src/operations/open.js';
import { ztContentDigest, ztOpen, ztCreateWriter } from '../src/formats/zt/index.js';
import { CborMap, cborDecodeStrict, cborEncodeCanonical } from '../src/formats/zt/cbor.js';
import { ztFloatMarks, ztWithFloatMarks } from '../src/formats/zt/float-marks.js';
import { CborFloat } from '../src/formats/zt/cbor.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

/** Builds a v2 file from the spec's byte layout, independently of tensio. */
const PYTHON_WRITER = `
import cbor2, xxhash, struct, sys
MAGIC = b'\\x89ZT2\\r\\n\\x1a\\n'
out = bytearray(MAGIC)
def blob(data):
    global out
    out += b'\\0' * (-len(out) % 4096)
    off = len(out); out += data
    return {'blob': [off, len(data)], 'digest': 'xxh3:%016x' % xxhash.xxh3_64_intdigest(data)}
w = struct.pack('<4f', 1, 2, 3, 4)
objects = {
  'w': {'shape': [2, 2], 'layout': 'dense', 'attributes': {'gain': 2.0, 'bias': 0.0, 'tags': ['a', 1.0], 'n': 3},
        'parts': {'data': dict(dtype='f32', **blob(w))}},
  'm': {'shape': [2, 3], 'layout': 'zt.sparse_csr/1', 'attributes': {'fill': 0.0},
        'parts': {'indptr': dict(dtype='u64', **blob(struct.pack('<3Q', 0, 1, 2))),
                  'indices': dict(dtype='u64', **blob(struct.pack('<2Q', 2, 0))),
                  'values': dict(dtype='f32', **blob(struct.pack('<2f', 5, 6)))}},
}
if len(sys.argv) > 2: del objects['m']  # dense only (merge takes no multi-part tensors)
attributes = {'scale': 1.0, 'lr': [1.0, 2, 0.5], 'cfg': {'eps': 0.0, 'n': 3, 'big': 1e20, 'neg': -0.0}, 'name': 'x', 'ratio': 0.25}
manifest = cbor2.dumps({'objects': objects, 'attributes': attributes}, canonical=True)
out += b'\\0' * (-len(out) % 4096)
offset = len(out); out += manifest
out += struct.pack('<QQQII', offset, len(manifest), xxhash.xxh3_64_intdigest(manifest), 2, 0) + MAGIC
open(sys.argv[1], 'wb').write(out)
`;

function manifestOf(path: string): CborMap {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offset = Number(view.getBigUint64(bytes.length - 40, true));
  const length = Number(view.getBigUint64(bytes.length - 32, true));
  return cborDecodeStrict(bytes.subarray(offset, offset + length)) as CborMap;
}
const hex = (value: unknown): string => Buffer.from(cborEncodeCanonical(value)).toString('hex');
function attributeBytes(path: string): Record<string, string> {
  const root = manifestOf(path);
  const objects = root.get('objects') as CborMap;
  return {
    file: hex(root.get('attributes')),
    ...Object.fromEntries(objects.entries.map(([name, object]) => [name as string, hex((object as CborMap).get('attributes'))])),
  };
}

test('a Python-written .zt with 1.0 / 0.0 attributes copied zt → zt keeps its tensio id and attribute bytes', { skip: oracleSkip('cbor2', 'xxhash') }, async (t) => {
  const dir = await tempDir(t);
  const input = join(dir, 'py.zt');
  runPython(PYTHON_WRITER, [input]);
  const before = attributeBytes(input);
  assert.match(before.file!, /f93c00/, 'the input holds 1.0 as a half float');

  await convert(input, join(dir, 'copy.zt'));
  assert.deepEqual(attributeBytes(join(dir, 'copy.zt')), before, 'every attribute map is the same CBOR');
  const idOf = async (path: string): Promise<string> => {
    const run = await runCli(['id', path]);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout.trim();
  };
  assert.equal(await idOf(join(dir, 'copy.zt')), await idOf(input));
  {
    await using a = await ztOpen(input);
    await using b = await ztOpen(join(dir, 'copy.zt'));
    assert.equal(ztContentDigest(b.manifest!), ztContentDigest(a.manifest!));
    assert.deepEqual(a.metadata.lr, [1, 2, 0.5], 'the model still sees plain numbers');
    assert.deepEqual(a.metadataTypes, { scale: 'float', lr: '[1,0,0]', cfg: '{"eps":1}' });
  }

  // compress and decompress (the CLI's own conversions) keep them too.
  for (const [command, output] of [['compress', 'z.zt'], ['decompress', 'plain.zt']] as const) {
    const from = command === 'compress' ? input : join(dir, 'z.zt');
    const run = await runCli([command, from, join(dir, output)]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(attributeBytes(join(dir, output)), before, command);
    assert.equal(await idOf(join(dir, output)), await idOf(input), command);
  }

  // merge (with --prefix: the objects renamed) keeps them as well.
  runPython(PYTHON_WRITER, [join(dir, 'dense.zt'), 'dense']);
  await mergeTensorFiles([join(dir, 'dense.zt'), join(dir, 'dense.zt')], join(dir, 'merged.zt'), { prefix: (i) => `copy${i}` });
  const dense = attributeBytes(join(dir, 'dense.zt'));
  assert.deepEqual(attributeBytes(join(dir, 'merged.zt')), { file: dense.file, 'copy0.w': dense.w, 'copy1.w': dense.w });
  // and so does a sharded copy (the root holds the manifest).
  await convert(join(dir, 'dense.zt'), join(dir, 'sharded.zt'), { writeOptions: { maxShardBytes: 4096 } });
  assert.deepEqual(attributeBytes(join(dir, 'sharded.zt')), dense);
  assert.equal(await idOf(join(dir, 'sharded.zt')), await idOf(join(dir, 'dense.zt')));

  // Python reads the floats back as floats.
  const { stdout } = runPython(`
import cbor2, struct, sys, json
b = open(sys.argv[1], 'rb').read()
off, ln = struct.unpack('<QQ', b[-40:-24])
m = cbor2.loads(b[off:off+ln])
a = m['attributes']
print(json.dumps([type(a['scale']).__name__, type(a['lr'][0]).__name__, type(a['lr'][1]).__name__, type(a['cfg']['eps']).__name__, type(m['objects']['w']['attributes']['gain']).__name__]))
`, [join(dir, 'copy.zt')]);
  assert.deepEqual(JSON.parse(stdout), ['float', 'float', 'int', 'float', 'float']);

  // Through safetensors (text metadata) the marks ride as zt.value_types, which a .zt output does not keep as an attribute.
  await convert(input, join(dir, 'x.safetensors'), { densify: true });
  const safetensors = await openTensorFile(join(dir, 'x.safetensors'));
  assert.ok('zt.value_types' in safetensors.metadata);
  await safetensors.close();
  await convert(join(dir, 'x.safetensors'), join(dir, 'back.zt'));
  const back = manifestOf(join(dir, 'back.zt')).get('attributes') as CborMap;
  assert.equal(back.get('zt.value_types'), undefined);
});

test('float marks: whole-number floats only, nested, and a changed value no longer matched', async (t) => {
  assert.equal(ztFloatMarks(new CborFloat(1)), 'float');
  assert.equal(ztFloatMarks(new CborFloat(1.5)), undefined, 'a fractional float is a float anyway');
  assert.equal(ztFloatMarks(new CborFloat(-0)), undefined, '-0 is written as a float anyway');
  assert.equal(ztFloatMarks(3), undefined);
  assert.equal(ztFloatMarks(new CborMap([['a', [2, new CborFloat(4)]]])), '{"a":[0,1]}');
  assert.deepEqual(ztWithFloatMarks(new Map([['a', [2, 4]]]), '{"a":[0,1]}'), new Map([['a', [2, new CborFloat(4)]]]));
  assert.equal(ztWithFloatMarks('text', 'float'), 'text', 'a value changed to text stays text');
  assert.equal(ztWithFloatMarks(7, 'not json'), 7);

  // Written directly: metadata with marks gives floats; without, whole numbers are integers.
  const dir = await tempDir(t);
  for (const [name, metadata, expected] of [
    ['marked.zt', { k: 1, 'zt.value_types': { k: 'float' } }, 'a1616bf93c00'],
    ['plain.zt', { k: 1 }, 'a1616b01'],
    ['huge.zt', { k: 1e300 }, 'a1616bfb7e37e43c8800759c'],
  ] as const) {
    const writer = await ztCreateWriter(join(dir, name), { tensors: [], metadata });
    await writer.close();
    assert.equal(hex(manifestOf(join(dir, name)).get('attributes')), expected, name);
  }
});
