/**
 * Error messages quote file content bounded (issue 16: one message was 900 KB): names,
 * dtype strings and globals are cut, and every TensioError message has a ceiling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TensioError, createTensor, getFormat, isTensioError, openTensorFile } from '../src/index.js';
import { npySerialize } from '../src/formats/npy/index.js';
import { npzWrite } from '../src/formats/npz/index.js';
import { safetensorsSerialize, safetensorsWrite } from '../src/formats/safetensors/index.js';
import { craftZip } from './helpers/zip-craft.js';
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

/**
 * Names of 1,500 characters: a message quoting one raw stays under the TensioError
 * constructor's 2,000-character cap, so only quoting at the source (`quoteInput`, 200
 * characters) keeps it short. Each entry: what it is, and a thunk that must reject.
 */
test('hostile inputs and writer plans with 1,500-character names: every message quotes at most 200 characters of a name (bounded at its source)', async (t) => {
  const dir = await tempDir(t);
  const long = (c: string) => c.repeat(1500);
  const SOURCE_BOUND = 800;
  const bytesOf = (text: string) => new TextEncoder().encode(text);
  const npyMember = npySerialize({ dtype: 'uint8', shape: [2], data: new Uint8Array(2) });
  const file = async (name: string, bytes: Uint8Array) => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };
  const readAll = async (path: string) => {
    const reader = await openTensorFile(path);
    try {
      for (const info of reader.tensors) await reader.read(info.name);
    } finally {
      await reader.close();
    }
  };
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['safetensors: data offsets past the end', async () => readAll(await file('a.safetensors', safetensorsWithHeader(JSON.stringify({ [long('a')]: { dtype: 'U8', shape: [4], data_offsets: [0, 4] } }))))],
    ['safetensors: shape disagrees with the offsets', async () => readAll(await file('b.safetensors', Buffer.concat([safetensorsWithHeader(JSON.stringify({ [long('b')]: { dtype: 'U8', shape: [2], data_offsets: [0, 1] } })), Buffer.alloc(1)])))],
    ['safetensors: overlapping tensors', async () => readAll(await file('c.safetensors', Buffer.concat([safetensorsWithHeader(JSON.stringify({ [long('c')]: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, [long('d')]: { dtype: 'U8', shape: [2], data_offsets: [1, 3] } })), Buffer.alloc(3)])))],
    ['zip/npz: a traversal member name', async () => readAll(await file('d.npz', craftZip([{ name: `../${long('e')}.npy`, data: npyMember }])))],
    ['zip/npz: a duplicate member', async () => readAll(await file('e.npz', craftZip([{ name: `${long('f')}.npy`, data: npyMember }, { name: `${long('f')}.npy`, data: npyMember }])))],
    ['npz: a member without the .npy magic', async () => readAll(await file('f.npz', craftZip([{ name: `${long('g')}.npy`, data: bytesOf('not an npy file at all') }])))],
    ['npz: a member shorter than its header says', async () => readAll(await file('g.npz', craftZip([{ name: `${long('h')}.npy`, data: npyMember.subarray(0, npyMember.byteLength - 1) }])))],
    ['reader: a tensor that is not there', async () => {
      const reader = await openTensorFile(await file('h.safetensors', safetensorsSerialize({ w: createTensor('uint8', [1], new Uint8Array(1)) })));
      try {
        await reader.read(long('i'));
      } finally {
        await reader.close();
      }
    }],
    ['safetensors writer: a metadata value that is not a string', () => safetensorsWrite(join(dir, 'i.safetensors'), new Map([[long('j'), createTensor('uint8', [1], new Uint8Array(1))]]), { metadata: { [long('k')]: 5 as unknown as string } })],
    ['npz writer: a key with a path in it', () => npzWrite(join(dir, 'j.npz'), { [`../${long('l')}`]: { dtype: 'uint8', shape: [1], data: new Uint8Array(1) } })],
    ['planned writer: a tensor out of order', async () => {
      const writer = await getFormat('safetensors').createWriter!(join(dir, 'k.safetensors'), { tensors: [{ name: long('m'), dtype: 'uint8', shape: [1] }, { name: long('n'), dtype: 'uint8', shape: [1] }] });
      try {
        await writer.add(long('n'), new Uint8Array(1));
      } finally {
        await writer.abort();
      }
    }],
  ];
  for (const [what, run] of cases) {
    await assert.rejects(run(), (err) => {
      assert.ok(isTensioError(err), `${what}: ${String(err)}`);
      t.diagnostic(`${what}: ${err.code}, ${err.message.length} chars`);
      assert.ok(err.message.length <= SOURCE_BOUND, `${what}: a ${err.message.length}-character message: ${err.message.slice(0, 300)}…`);
      return true;
    }, what);
  }
});
