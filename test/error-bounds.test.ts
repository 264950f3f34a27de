/**
 * Error messages quote file content bounded (issue 16: one message was 900 KB): names,
 * dtype strings and globals are cut, and every TensioError message has a ceiling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TensioError, isTensioError, openTensorFile } from '../src/index.js';
import { boundMessage, quoteInput } from '../src/core/quote.js';
import { ERROR_MAX_MESSAGE_CHARS } from '../src/core/limits.js';
import { cliErrorCode, runCli } from './helpers/cli.js';
import { binUnicode, craftCheckpoint, pickleBytes } from './helpers/pytorch-craft.js';
import { tempDir } from './helpers/temp.js';

const HUGE = 1_000_000;
const BOUND = ERROR_MAX_MESSAGE_CHARS + 200;

function safetensorsWithHeader(header: string): Uint8Array {
  const json = Buffer.from(header, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.byteLength));
  return new Uint8Array(Buffer.concat([prefix, json]));
}

test('quoteInput cuts long text and says how long it was; boundMessage caps any message', () => {
  assert.equal(quoteInput('abc'), '"abc"');
  const quoted = quoteInput('x'.repeat(HUGE));
  assert.ok(quoted.length < 300 && quoted.endsWith(`…(${HUGE} chars)`), quoted.slice(-40));
  const message = boundMessage(`tensor "${'y'.repeat(HUGE)}" is bad at byte 12`);
  assert.ok(message.length <= BOUND, `${message.length}`);
  assert.match(message, /is bad at byte 12$/);
  const unquoted = boundMessage(`z${'z'.repeat(HUGE)} end`);
  assert.ok(unquoted.length <= BOUND);
  assert.match(unquoted, / end$/);
  assert.ok(new TensioError('INVALID_NAME', 'w'.repeat(HUGE)).message.length <= BOUND);
});

test('a safetensors tensor named with 1 MB of text: the error quotes 200 characters of it', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'huge-name.safetensors');
  const name = 'n'.repeat(HUGE);
  await writeFile(path, safetensorsWithHeader(JSON.stringify({ [name]: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } })));
  await assert.rejects(openTensorFile(path), (err) => isTensioError(err) && err.message.length <= BOUND);
  // A dtype string of 1 MB in the same place.
  const dtype = join(dir, 'huge-dtype.safetensors');
  await writeFile(dtype, safetensorsWithHeader(JSON.stringify({ w: { dtype: 'D'.repeat(HUGE), shape: ['x'.repeat(HUGE)], data_offsets: [0, 4] } })));
  await assert.rejects(openTensorFile(dtype), (err) => isTensioError(err) && err.message.length <= BOUND);
  const cli = await runCli(['inspect', path]);
  assert.equal(cli.code, 1);
  assert.ok(cliErrorCode(cli.stderr));
  assert.ok(cli.stderr.length <= BOUND + 200, `stderr of ${cli.stderr.length} chars`);
});

test('a checkpoint naming a 1 MB global, and thousands of globals: UNSAFE_PICKLE with a bounded message', async (t) => {
  const dir = await tempDir(t);
  const one = join(dir, 'one.pt');
  await writeFile(one, craftCheckpoint(pickleBytes(0x80, 2, `cos\n${'s'.repeat(HUGE)}\n`, ')R.')));
  await assert.rejects(openTensorFile(one), (err) => isTensioError(err, 'UNSAFE_PICKLE') && err.message.length <= BOUND);
  const many = join(dir, 'many.pt');
  const globals = Array.from({ length: 5000 }, (_, i) => `cevil${i}\n${'f'.repeat(100)}\n0`).join('');
  await writeFile(many, craftCheckpoint(pickleBytes(0x80, 2, globals, 'N.')));
  await assert.rejects(openTensorFile(many), (err) => isTensioError(err, 'UNSAFE_PICKLE') && err.message.length <= BOUND && /more/.test(err.message));
  // A storage key of 1 MB.
  const key = join(dir, 'key.pt');
  await writeFile(key, craftCheckpoint(pickleBytes(0x80, 2, '(', binUnicode('storage'), 'ctorch\nFloatStorage\n', binUnicode('k'.repeat(HUGE)), binUnicode('cpu'), 'K', 1, 'tQ.')));
  await assert.rejects(openTensorFile(key), (err) => isTensioError(err) && err.message.length <= BOUND);
});

test('an .npy header whose descr is 500 KB: the error is bounded', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'descr.npy');
  const dict = `{'descr': '${'<'.repeat(500_000)}f4', 'fortran_order': False, 'shape': (1,), }`;
  const header = Buffer.from(dict.padEnd(Math.ceil((dict.length + 13) / 64) * 64 - 12, ' ') + '\n', 'latin1');
  const prefix = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 3, 0, 0, 0, 0, 0]);
  prefix.writeUInt32LE(header.byteLength, 8);
  await writeFile(path, Buffer.concat([prefix, header, Buffer.alloc(4)]));
  await assert.rejects(openTensorFile(path), (err) => isTensioError(err) && err.message.length <= BOUND);
});
