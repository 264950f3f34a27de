/**
 * `tensio edit` against the reference readers: GGUF files written by gguf-py edited in
 * place and by rewrite (GGUFReader reads the new values with their types and the same
 * tensor bytes), safetensors `__metadata__` edited in place and by rewrite (read by
 * safetensors' safe_open), bad edits refused with nothing changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';
import { cliErrorCode, runCli } from './helpers/cli.js';

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const WRITE = String.raw`
import sys, numpy as np, gguf
w = gguf.GGUFWriter(sys.argv[1], 'llama')
w.add_name('tiny'); w.add_uint32('llama.context_length', 2048); w.add_string('general.url', 'https://example.org')
w.add_tensor('a', np.arange(40, dtype=np.float32).reshape(5, 8)); w.add_tensor('b', np.ones(3, dtype=np.float16))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
`;

const DUMP = String.raw`
import sys, json, hashlib, gguf
r = gguf.GGUFReader(sys.argv[1])
f = {k: [v.types[0].name, v.contents() if not hasattr(v.contents(), 'item') else v.contents().item()] for k, v in r.fields.items() if not k.startswith('GGUF.')}
print(json.dumps({'fields': f, 'data': {t.name: hashlib.sha256(t.data.tobytes()).hexdigest() for t in r.tensors}}))
`;

type Dump = { fields: Record<string, [string, unknown]>; data: Record<string, string> };
const dump = (path: string): Dump => JSON.parse(runPython(DUMP, [path]).stdout) as Dump;

test('edit GGUF in place (fits the padding), by rewrite (does not), to -o OUT; types kept or set; GGUFReader agrees', { skip: oracleSkip('gguf', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.gguf');
  runPython(WRITE, [path]);
  const before = dump(path);
  const size = readFileSync(path).byteLength;

  const small = await runCli(['edit', path, '--set', 'general.name=tin', '--set', 'llama.context_length=4096', '--json']);
  assert.equal(small.code, 0, small.stderr);
  assert.equal(JSON.parse(small.stdout).mode, 'in-place');
  assert.equal(readFileSync(path).byteLength, size);
  let after = dump(path);
  assert.deepEqual(after.fields['general.name'], ['STRING', 'tin']);
  assert.deepEqual(after.fields['llama.context_length'], ['UINT32', 4096], 'u32 stays u32');
  assert.deepEqual(after.data, before.data);

  const big = await runCli(['edit', path, '--set', `general.description=${'x'.repeat(300)}`, '--delete', 'general.url', '--set-type', 'llama.context_length=uint64']);
  assert.equal(big.code, 0, big.stderr);
  assert.match(big.stdout, /by rewriting the file/);
  after = dump(path);
  assert.deepEqual(after.fields['general.description'], ['STRING', 'x'.repeat(300)]);
  assert.deepEqual(after.fields['llama.context_length'], ['UINT64', 4096]);
  assert.equal(after.fields['general.url'], undefined);
  assert.deepEqual(after.data, before.data);

  const original = sha(path);
  const out = await runCli(['edit', path, '--set-type', 'x.ids=array:int16', '--set', 'x.ids=[1,-2,3]', '-o', join(dir, 'out.gguf')]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(sha(path), original, 'FILE untouched with -o');
  assert.deepEqual(dump(join(dir, 'out.gguf')).fields['x.ids'], ['ARRAY', [1, -2, 3]]);

  for (const [args, code] of [
    [['--delete', 'no.such.key'], 'NOT_FOUND'],
    [['--set', 'llama.context_length=abc'], 'INVALID_ARGUMENT'],
    [['--set', 'general.alignment=64'], 'INVALID_ARGUMENT'],
    [['--set-type', 'k=uint33', '--set', 'k=1'], 'INVALID_ARGUMENT'],
  ] as const) {
    const run = await runCli(['edit', path, ...args]);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(cliErrorCode(run.stderr), code);
    assert.equal(sha(path), original, `${args.join(' ')} changed nothing`);
  }
  assert.equal((await runCli(['edit', path])).code, 2);
});

test('edit safetensors __metadata__ in place when it fits the header, by rewrite when not; safe_open agrees', { skip: oracleSkip('safetensors', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'm.safetensors');
  runPython(String.raw`
import sys, numpy as np
from safetensors.numpy import save_file
save_file({'w': np.arange(6, dtype=np.float32).reshape(2, 3)}, sys.argv[1], metadata={'format': 'pt', 'note': 'a long note to make room'})
`, [path]);
  const size = readFileSync(path).byteLength;
  const inPlace = await runCli(['edit', path, '--set', 'note=short', '--json']);
  assert.equal(inPlace.code, 0, inPlace.stderr);
  assert.equal(JSON.parse(inPlace.stdout).mode, 'in-place');
  assert.equal(readFileSync(path).byteLength, size);
  const rewrite = await runCli(['edit', path, '--set', `big=${'y'.repeat(500)}`, '--delete', 'format']);
  assert.equal(rewrite.code, 0, rewrite.stderr);
  assert.match(rewrite.stdout, /rewriting/);
  const read = runPython(String.raw`
import sys, json
from safetensors import safe_open
with safe_open(sys.argv[1], 'numpy') as f:
    print(json.dumps({'meta': f.metadata(), 'w': f.get_tensor('w').tolist()}))
`, [path]);
  assert.deepEqual(JSON.parse(read.stdout), { meta: { note: 'short', big: 'y'.repeat(500) }, w: [[0, 1, 2], [3, 4, 5]] });
  const typed = await runCli(['edit', path, '--set-type', 'a=uint32']);
  assert.equal(typed.code, 1);
  assert.equal(cliErrorCode(typed.stderr), 'INVALID_ARGUMENT');
});

/** The header length and the spaces at its end. */
function safetensorsHeader(path: string): { length: number; spare: number } {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  let spare = 0;
  while (bytes[8 + length - 1 - spare] === 0x20) spare++;
  return { length, spare };
}

test('convert --header-reserve leaves room in a safetensors header: edits up to it go in place, a rewrite keeps it; safe_open reads every step', { skip: oracleSkip('safetensors', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'src.safetensors');
  const path = join(dir, 'reserved.safetensors');
  runPython(String.raw`
import sys, numpy as np
from safetensors.numpy import save_file
save_file({'w': np.arange(6, dtype=np.float32).reshape(2, 3), 'b': np.ones(4, dtype=np.int16)}, sys.argv[1], metadata={'format': 'pt'})
`, [source]);
  const READ = String.raw`
import sys, json
from safetensors import safe_open
with safe_open(sys.argv[1], 'numpy') as f:
    print(json.dumps({'meta': f.metadata(), 'w': f.get_tensor('w').tolist(), 'b': f.get_tensor('b').tolist()}))
`;
  const read = (file: string) => JSON.parse(runPython(READ, [file]).stdout) as { meta: Record<string, string>; w: number[][]; b: number[] };
  const converted = await runCli(['convert', source, path, '--header-reserve', '4KiB']);
  assert.equal(converted.code, 0, converted.stderr);
  const first = safetensorsHeader(path);
  assert.ok(first.spare >= 4096 && first.spare < 4096 + 8, `4 KiB of spaces reserved (${first.spare})`);
  assert.equal(first.length % 8, 0);
  assert.deepEqual(read(path), { meta: { format: 'pt' }, w: [[0, 1, 2], [3, 4, 5]], b: [1, 1, 1, 1] });

  // 3,000 more bytes of metadata: in place, same size, the data bytes untouched.
  const size = readFileSync(path).byteLength;
  const data = sha(path);
  const note = 'n'.repeat(3000);
  const inPlace = await runCli(['edit', path, '--set', `note=${note}`, '--json']);
  assert.equal(inPlace.code, 0, inPlace.stderr);
  assert.equal(JSON.parse(inPlace.stdout).mode, 'in-place');
  assert.equal(readFileSync(path).byteLength, size);
  assert.equal(safetensorsHeader(path).length, first.length);
  assert.notEqual(sha(path), data);
  assert.ok(readFileSync(path).subarray(8 + first.length).equals(readFileSync(source).subarray(8 + safetensorsHeader(source).length)), 'the data bytes are the source\'s');
  assert.deepEqual(read(path).meta, { format: 'pt', note });

  // 2,000 more do not fit: a rewrite, which keeps the spare spaces it had for the next edit.
  const spareBefore = safetensorsHeader(path).spare;
  const rewrite = await runCli(['edit', path, '--set', `more=${'m'.repeat(2000)}`, '--json']);
  assert.equal(rewrite.code, 0, rewrite.stderr);
  assert.equal(JSON.parse(rewrite.stdout).mode, 'rewrite');
  assert.ok(safetensorsHeader(path).spare >= spareBefore, `spare kept (${safetensorsHeader(path).spare} >= ${spareBefore})`);
  assert.deepEqual(read(path), { meta: { format: 'pt', note, more: 'm'.repeat(2000) }, w: [[0, 1, 2], [3, 4, 5]], b: [1, 1, 1, 1] });
  const again = await runCli(['edit', path, '--set', 'small=1', '--json']);
  assert.equal(JSON.parse(again.stdout).mode, 'in-place');

  // The flag is refused for a format without a header to reserve.
  const npz = await runCli(['convert', source, join(dir, 'x.npz'), '--header-reserve', '4096']);
  assert.equal(npz.code, 2);
  assert.match(npz.stderr, /--header-reserve applies to safetensors/);
});

test('safetensorsPlanLayout headerReserve: that many spaces more (to a multiple of 8), the same JSON; a negative or fractional reserve is refused', async () => {
  const { safetensorsPlanLayout } = await import('../src/formats/safetensors/write.js');
  const { isTensioError } = await import('../src/core/errors.js');
  const specs = [{ name: 'w', dtype: 'float32' as const, shape: [2, 3] }];
  const plain = safetensorsPlanLayout(specs, { metadata: { format: 'pt' } });
  const reserved = safetensorsPlanLayout(specs, { metadata: { format: 'pt' }, headerReserve: 1000 });
  const text = (header: Uint8Array) => Buffer.from(header.subarray(8)).toString('utf8');
  assert.equal(text(reserved.header).trimEnd(), text(plain.header).trimEnd());
  assert.equal((reserved.dataStart - 8) % 8, 0);
  const json = text(plain.header).trimEnd().length;
  assert.ok(reserved.dataStart - 8 - json >= 1000 && reserved.dataStart - 8 - json < 1008);
  assert.equal(reserved.fileSize - reserved.dataStart, plain.fileSize - plain.dataStart);
  for (const bad of [-1, 1.5, Number.NaN]) {
    assert.throws(() => safetensorsPlanLayout(specs, { headerReserve: bad }), (error: unknown) => isTensioError(error, 'INVALID_ARGUMENT'));
  }
  assert.throws(() => safetensorsPlanLayout(specs, { headerReserve: 200, maxHeaderBytes: 128 }), (error: unknown) => isTensioError(error, 'HEADER_TOO_LARGE'));
});
