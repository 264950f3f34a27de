/**
 * `zt.quant_group/1` and `zt.mx/1` (left structural by the reference; their size rules
 * come from the spec's prose): well-formed objects written part by part open with their
 * parts readable (typed as the seam's quant_group and mx layouts), and each size or
 * attribute fault is refused at open under LayoutRule.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TensorSpec } from '../src/model/types.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { ZtRejectError, ztCreateWriter, ztOpen } from '../src/formats/zt/index.js';

async function file(spec: TensorSpec): Promise<Uint8Array> {
  const sink = memorySink();
  const writer = await ztCreateWriter(sink, { tensors: [spec] });
  await writer.add(spec.name, new Uint8Array(spec.parts!.reduce((sum, part) => sum + part.byteLength, 0)).map((_, i) => i & 0x0f));
  await writer.close();
  return sink.bytes();
}

const quant = (attributes: Record<string, unknown>, scalesBytes = 8): TensorSpec => ({
  name: 'w', dtype: 'opaque', shape: [2, 64],
  layout: { kind: 'other', name: 'zt.quant_group/1', attributes },
  parts: [
    { name: 'data', dtype: 'uint32', shape: [16], byteLength: 64, formatDtype: 'u32' },
    { name: 'scales', dtype: 'float16', shape: [scalesBytes / 2], byteLength: scalesBytes, formatDtype: 'f16' },
  ],
});
const QUANT = { bits: 4, group_size: 32, axis: 1, packing: { word: 'u32', order: 'lsb_first', per_word: 8 }, scale_form: 'f16_factors', zero_point: { form: 'none' } };

const mx = (blockSize: number, scalesBytes = 4): TensorSpec => ({
  name: 'm', dtype: 'opaque', shape: [2, 64],
  layout: { kind: 'other', name: 'zt.mx/1', attributes: { block_size: blockSize, scale_form: 'e8m0_exponent' } },
  parts: [
    { name: 'data', dtype: 'uint8', shape: [128], byteLength: 128, formatDtype: 'f8_e4m3fn' },
    { name: 'scales', dtype: 'uint8', shape: [scalesBytes], byteLength: scalesBytes, formatDtype: 'f8_e8m0' },
  ],
});

test('quant_group and mx objects open with readable parts; size and attribute faults are LayoutRule', async () => {
  {
    await using reader = await ztOpen(await file(quant(QUANT)));
    assert.equal(reader.info('w').layout?.kind, 'quant_group');
    assert.equal(reader.info('w').dtype, 'float32');
    assert.equal((await reader.readPart('w', 'scales')).data.byteLength, 8);
    assert.equal(reader.manifest!.objects.get('w')!.parts.get('data')!.dtype, 'u32');
  }
  {
    await using reader = await ztOpen(await file(mx(32)));
    assert.equal(reader.manifest!.objects.get('m')!.parts.get('scales')!.type, 'f8_e8m0');
  }
  const faults: Array<[string, TensorSpec]> = [
    ['scales of the wrong size', quant(QUANT, 6)],
    ['bits 7', quant({ ...QUANT, bits: 7 })],
    ['axis past the rank', quant({ ...QUANT, axis: 2 })],
    ['per_word inconsistent', quant({ ...QUANT, packing: { ...QUANT.packing, per_word: 4 } })],
    ['implied zero point without a value', quant({ ...QUANT, zero_point: { form: 'implied' } })],
    ['mx: one scale per block', mx(32, 2)],
    ['mx: block size not dividing the axis', mx(48, 4)],
  ];
  for (const [what, spec] of faults) {
    await assert.rejects(file(spec).then((bytes) => ztOpen(bytes)), (error: unknown) => error instanceof ZtRejectError && error.rule === 'LayoutRule', what);
  }
});
