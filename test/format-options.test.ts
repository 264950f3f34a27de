/**
 * Per-format options are typed per format (issue 7, item 5c). The type checks are the
 * `@ts-expect-error` lines below: `npm run typecheck` fails if any of them stops being
 * an error (a misspelt or mistyped option for a literal format name), and the lines
 * without it must compile. The run-time half: the typed options reach the format
 * (a limit given as `formatOptions` takes effect), and a format name known only at run
 * time (the CLI) still takes any keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convert, openTensorFile, verifyTensorFile, type FormatOptionsByName } from '../src/operations/index.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { isTensioError } from '../src/core/errors.js';
import { npzWrite } from '../src/formats/npz/index.js';
import { safetensorsSerialize } from '../src/formats/safetensors/write.js';
import { createTensor } from '../src/core/tensor.js';

/** Never called: compiled only, so the type errors below are checked by `tsc`. */
async function typeChecks(bytes: Uint8Array, someFormat: string): Promise<void> {
  await openTensorFile(bytes, { format: 'npz', formatOptions: { checkCrc: false, maxEntries: 10 } });
  // @ts-expect-error — npz has no `crc32` open option
  await openTensorFile(bytes, { format: 'npz', formatOptions: { crc32: true } });
  // @ts-expect-error — maxEntries is a number
  await openTensorFile(bytes, { format: 'npz', formatOptions: { maxEntries: 'ten' } });
  await openTensorFile(bytes, { format: 'pytorch', formatOptions: { key: 'state_dict', followIndex: false } });
  // @ts-expect-error — `keys` is misspelt (`key`)
  await openTensorFile(bytes, { format: 'pytorch', formatOptions: { keys: 'state_dict' } });
  await verifyTensorFile(bytes, { format: 'safetensors', formatOptions: { maxHeaderBytes: 1024 } });
  // @ts-expect-error — the safetensors reader has no `compress`
  await verifyTensorFile(bytes, { format: 'safetensors', formatOptions: { compress: true } });
  await convert(bytes, 'out.npz', { to: 'npz', writeOptions: { compress: true } });
  // @ts-expect-error — crc32 is a safetensors writer option, not npz's
  await convert(bytes, 'out.npz', { to: 'npz', writeOptions: { crc32: true } });
  await convert(bytes, 'out.safetensors', { from: 'npz', readOptions: { checkCrc: false }, to: 'safetensors', writeOptions: { crc32: true, maxShardBytes: 1e9 } });
  // @ts-expect-error — readOptions are the input format's (npz): no followIndex
  await convert(bytes, 'out.safetensors', { from: 'npz', readOptions: { followIndex: false } });
  // @ts-expect-error — npk's writer takes merge/segmentTargetBytes/durable only
  await convert(bytes, 'out.npk', { to: 'npk', writeOptions: { compress: true } });
  // A format name known only at run time (the CLI) takes any keys; the format checks them.
  await openTensorFile(bytes, { format: someFormat, formatOptions: { anything: 1 } });
  await convert(bytes, 'out', { to: someFormat, writeOptions: { anything: 1 } });
  // Without a format, detection decides: any keys.
  await openTensorFile(bytes, { formatOptions: { anything: 1 } });
  const map: FormatOptionsByName['safetensors']['write'] = { crc32: true };
  void map;
}
void typeChecks;

const arrays = { a: createTensor('float32', [2], new Float32Array([1, 2])), b: createTensor('int16', [3], new Int16Array([1, 2, 3])) };

test('typed open options reach the format: npz maxEntries below the member count is refused', async () => {
  const npz = memorySink();
  await npzWrite(npz, arrays);
  const bytes = npz.bytes();
  await using ok = await openTensorFile(bytes, { format: 'npz', formatOptions: { maxEntries: 2 } });
  assert.equal(ok.tensors.length, 2);
  await assert.rejects(openTensorFile(bytes, { format: 'npz', formatOptions: { maxEntries: 1 } }), (error) => isTensioError(error, 'LIMIT_EXCEEDED'));
});

test('typed write options reach the writer: safetensors crc32 through convert', async () => {
  const input = safetensorsSerialize(arrays);
  const sink = memorySink();
  await convert(input, sink, { to: 'safetensors', writeOptions: { crc32: true } });
  const report = await verifyTensorFile(sink.bytes(), { format: 'safetensors' });
  assert.equal(report.checksumsVerified, 2);
});

test('a format name known only at run time still takes options as any keys', async () => {
  const name: string = ['s', 'afetensors'].join('');
  const bytes = safetensorsSerialize(arrays);
  await assert.rejects(openTensorFile(bytes, { format: name, formatOptions: { maxHeaderBytes: 8 } }), (error) => isTensioError(error, 'HEADER_TOO_LARGE', 'LIMIT_EXCEEDED'));
});
