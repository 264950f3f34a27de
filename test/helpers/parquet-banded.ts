/**
 * tensio's snappy Parquet file of one banded row group, for the tests of the whole
 * stacked read's band walk (stored chunks, shape anchors).
 */
import { parquetCreateWriter } from '../../src/formats/parquet/index.js';

/** Rows of the banded file: one row group of 700,000 × 8 float32 (22 MB: over the 16 MiB a whole read takes band by band, from one mapping). */
export const BANDED_ROWS = 700_000;

/** Writes tensio's snappy file of one banded row group to `path`; its values. */
export async function writeBandedFile(path: string): Promise<Float32Array> {
  const values = Float32Array.from({ length: BANDED_ROWS * 8 }, (_, i) => ((i * 7919) % 4093) / 16);
  const writer = await parquetCreateWriter(path, { tensors: [{ name: 't', dtype: 'float32', shape: [BANDED_ROWS, 8] }], formatOptions: { compression: 'snappy', rowGroupSize: BANDED_ROWS } });
  await writer.add('t', new Uint8Array(values.buffer));
  await writer.close();
  return values;
}
