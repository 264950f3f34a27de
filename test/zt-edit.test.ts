/**
 * `tensio edit` on zTensor files: attributes are set (keeping their type, or the one
 * `--set-type` names), retyped and deleted as a new generation published atomically;
 * the tensors are untouched and still verify; `-o OUT` leaves the input as it was; an
 * independent parse of the container (Python's cbor2 and xxhash over the footer and
 * manifest) sees the new attributes; bad edits exit 1 naming the problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openTensorFile, verifyTensorFile } from '../src/index.js';
import { ztCreateWriter } from '../src/formats/zt/write.js';
import { runCli } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const DATA = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);

async function writeSample(path: string): Promise<void> {
  const writer = await ztCreateWriter(path, { tensors: [{ name: 'w', dtype: 'float32', shape: [2, 2] }], metadata: { license: 'mit', epoch: 3, lr: 0.5, tags: ['a', 'b'], draft: true } });
  await writer.add('w', DATA);
  await writer.close();
}

test('tensio edit sets, retypes and deletes .zt attributes; the tensors are untouched and verify', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.zt');
  await writeSample(path);
  const run = await runCli(['edit', path, '--set', 'license=apache-2.0', '--set', 'epoch=4', '--set-type', 'lr=string', '--set', 'note=hello', '--set-type', 'count=int', '--set', 'count=12', '--set', 'tags=["x"]', '--delete', 'draft', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const result = JSON.parse(run.stdout) as { mode: string; changed: string[] };
  assert.equal(result.mode, 'rewrite');
  assert.deepEqual([...result.changed].sort(), ['count', 'draft', 'epoch', 'license', 'lr', 'note', 'tags']);
  await using reader = await openTensorFile(path);
  assert.deepEqual(reader.metadata, { count: 12, epoch: 4, license: 'apache-2.0', lr: '0.5', note: 'hello', tags: ['x'] });
  assert.deepEqual(Buffer.from((await reader.read('w')).data), Buffer.from(DATA));
  const report = await verifyTensorFile(path);
  assert.equal(report.ok, true, JSON.stringify(report.problems));
  assert.equal(report.checksumsVerified, 1, 'the blob digest still matches');
});

test('edit -o OUT writes a new file and leaves the input byte for byte', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.zt');
  await writeSample(path);
  const before = await readFile(path);
  const run = await runCli(['edit', path, '--set', 'license=bsd', '-o', join(dir, 'out.zt')]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok((await readFile(path)).equals(before), 'the input is unchanged');
  await using reader = await openTensorFile(join(dir, 'out.zt'));
  assert.equal(reader.metadata.license, 'bsd');
});

test('an independent parse of the edited container (cbor2, xxhash) sees the new attributes and a valid footer', { skip: oracleSkip('cbor2', 'xxhash') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.zt');
  await writeSample(path);
  assert.equal((await runCli(['edit', path, '--set', 'epoch=5', '--set-type', 'lr=float', '--set', 'lr=0.125', '--delete', 'tags'])).code, 0);
  const { stdout } = runPython(`
import sys, struct, json, cbor2, xxhash
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b[-8:] == b'\\x89ZT2\\r\\n\\x1a\\n'
off, length, digest, version, _ = struct.unpack('<QQQII', b[-40:-8])
man = b[off:off + length]
assert xxhash.xxh3_64_intdigest(man) == digest, 'manifest hash'
assert off % 4096 == 0, 'manifest aligned'
m = cbor2.loads(man)
print(json.dumps({'version': version, 'attributes': m['attributes'], 'objects': sorted(m['objects'])}))
`, [path]);
  const parsed = JSON.parse(stdout) as { version: number; attributes: Record<string, unknown>; objects: string[] };
  assert.equal(parsed.version, 2);
  assert.deepEqual(parsed.attributes, { draft: true, epoch: 5, license: 'mit', lr: 0.125 });
  assert.deepEqual(parsed.objects, ['w']);
});

test('bad edits exit 1 and leave the file as it was', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.zt');
  await writeSample(path);
  const before = await readFile(path);
  for (const [args, pattern] of [
    [['--delete', 'nope'], /no attribute "nope"/],
    [['--set', 'epoch=four'], /not an integer/],
    [['--set-type', 'x=uint7'], /not one of string, int, float, bool, json/],
    [['--set', 'tags=[oops'], /not JSON/],
    [['--set', 'draft=maybe'], /give true or false/],
  ] as const) {
    const run = await runCli(['edit', path, ...args]);
    assert.equal(run.code, 1, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, pattern);
  }
  assert.ok((await readFile(path)).equals(before));
});
