import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTensor } from '../src/core/tensor.js';
import { atomicFileSink } from '../src/storage/atomic-file-sink.js';
import { zipCreateWriter } from '../src/zip/write.js';
import { cliErrorCode, runCli, writeWithFormat } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

/** A torch-style zip whose data.pkl calls os.system('echo pwned') when unpickled by Python. */
async function writeEvilCheckpoint(path: string): Promise<void> {
  const text = (value: string) => new TextEncoder().encode(value);
  const pickle = new Uint8Array([
    0x80, 0x02, // PROTO 2
    0x63, ...text('os\nsystem\n'), // GLOBAL os.system
    0x58, 10, 0, 0, 0, ...text('echo pwned'), // BINUNICODE
    0x85, // TUPLE1
    0x52, // REDUCE
    0x2e, // STOP
  ]);
  const zip = zipCreateWriter(await atomicFileSink(path), { format: 'pytorch' });
  await zip.add('archive/data.pkl', pickle);
  await zip.add('archive/version', text('3\n'));
  await zip.close();
}

test('inspect refuses an unsafe pickle, exits 1 and lists the globals it references', async (t) => {
  const dir = await tempDir(t);
  await writeEvilCheckpoint(join(dir, 'evil.pt'));
  const run = await runCli(['inspect', 'evil.pt'], { cwd: dir });
  assert.equal(run.code, 1);
  assert.equal(cliErrorCode(run.stderr), 'UNSAFE_PICKLE');
  assert.match(run.stderr, /^\s+os\.system {2}\(not allowed\)$/m);
  assert.equal(run.stdout, '');
  const json = await runCli(['inspect', 'evil.pt', '--json'], { cwd: dir });
  assert.equal(json.code, 1);
  const doc = JSON.parse(json.stdout) as { error: { code: string }; pickleGlobals: { name: string; allowed?: boolean }[] };
  assert.equal(doc.error.code, 'UNSAFE_PICKLE');
  assert.deepEqual(doc.pickleGlobals.find((entry) => entry.name === 'os.system'), { name: 'os.system', allowed: false });
  const verify = await runCli(['verify', 'evil.pt'], { cwd: dir });
  assert.equal(verify.code, 1);
  assert.equal(cliErrorCode(verify.stderr), 'UNSAFE_PICKLE');
  const convert = await runCli(['convert', 'evil.pt', 'out.safetensors'], { cwd: dir });
  assert.equal(convert.code, 1);
  assert.equal(cliErrorCode(convert.stderr), 'UNSAFE_PICKLE');
});

test('inspect of a safe checkpoint lists its (allowed) pickle globals', async (t) => {
  const dir = await tempDir(t);
  await writeWithFormat('pytorch', join(dir, 'ok.pt'), { w: createTensor('float32', [2], new Float32Array([1, 2])) });
  const run = await runCli(['inspect', 'ok.pt'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^format\s+pytorch$/m);
  assert.match(run.stdout, /^pickle globals \(\d+\)$/m);
  assert.match(run.stdout, /^\s+torch\._utils\._rebuild_tensor_v2$/m);
  assert.doesNotMatch(run.stdout, /not allowed/);
});
