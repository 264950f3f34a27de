/**
 * Benchmark inputs: a plan of tensors of mixed dtypes and their bytes, generated in
 * memory, plus minimal writers for safetensors and `.npy` so the inputs exist even
 * before (or without) tensio's own writers — the bench must not depend on the code it
 * measures to build its fixtures.
 */
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** One generated tensor. */
export interface BenchTensor {
  name: string;
  /** tensio dtype name. */
  dtype: 'float32' | 'bfloat16' | 'float16';
  /** safetensors dtype name. */
  safetensorsDtype: 'F32' | 'BF16' | 'F16';
  shape: number[];
  data: Uint8Array;
}

const DTYPES = [
  { dtype: 'float32', safetensorsDtype: 'F32', size: 4 },
  { dtype: 'bfloat16', safetensorsDtype: 'BF16', size: 2 },
  { dtype: 'float16', safetensorsDtype: 'F16', size: 2 },
] as const;

/** A 64 KiB random pattern repeated: cheap to make, not all zeros (no sparse-file or zero-page shortcuts). */
function patternBuffer(bytes: number, seed: Uint8Array): Uint8Array {
  const data = Buffer.allocUnsafeSlow(bytes);
  data.fill(seed);
  return data;
}

/**
 * `count` tensors totalling `totalBytes` (a multiple of count x 4096), dtypes cycling
 * f32 / bf16 / f16, shapes `[rows, 1024]`.
 *
 * @example
 * ```ts
 * const tensors = makeMixedTensors(2 ** 30, 64); // 64 x 16 MiB
 * ```
 */
export function makeMixedTensors(totalBytes: number, count = 64): BenchTensor[] {
  const perTensor = Math.floor(totalBytes / count / 4096) * 4096;
  if (perTensor <= 0) throw new Error(`size ${totalBytes} too small for ${count} tensors`);
  const seed = randomFillSync(new Uint8Array(65536));
  return Array.from({ length: count }, (_, index) => {
    const kind = DTYPES[index % DTYPES.length]!;
    const elements = perTensor / kind.size;
    return {
      name: `model.layers.${index}.weight`,
      dtype: kind.dtype,
      safetensorsDtype: kind.safetensorsDtype,
      shape: [elements / 1024, 1024],
      data: patternBuffer(perTensor, seed),
    };
  });
}

/**
 * One float32 tensor of `totalBytes` (rounded down to 4096), shape `[rows, 1024]`.
 *
 * @example
 * ```ts
 * const array = makeFloat32Array(2 ** 30);
 * ```
 */
export function makeFloat32Tensor(totalBytes: number, name = 'array'): BenchTensor {
  const bytes = Math.floor(totalBytes / 4096) * 4096;
  return { name, dtype: 'float32', safetensorsDtype: 'F32', shape: [bytes / 4096, 1024], data: patternBuffer(bytes, randomFillSync(new Uint8Array(65536))) };
}

/**
 * Float32 values with ~12 significant bits, deterministic (gzip reaches about 0.6 of the
 * size, like real data): the array the chunked-format groups (hdf5, zarr) write and read,
 * `bytes` rounded down to whole units of `unitElements` values (at least one unit).
 *
 * @example
 * ```ts
 * const data = makeCompressibleFloat32(2 ** 30, 1024 * 256); // whole 1 MiB chunks of [256, 1024]
 * ```
 */
export function makeCompressibleFloat32(bytes: number, unitElements: number): Uint8Array {
  const values = new Float32Array(Math.max(1, Math.floor(bytes / (4 * unitElements))) * unitElements);
  let state = 0x2545f491;
  for (let i = 0; i < values.length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    values[i] = Math.fround(((state >>> 20) - 2048) / 256);
  }
  return new Uint8Array(values.buffer);
}

/**
 * The safetensors header bytes (8-byte length + JSON padded with spaces to 8) for the
 * tensors in order, and each tensor's absolute data offset in the file.
 *
 * @example
 * ```ts
 * const { header, offsets } = safetensorsFixtureHeader(tensors);
 * ```
 */
export function safetensorsFixtureHeader(tensors: readonly BenchTensor[]): { header: Uint8Array; offsets: number[] } {
  const entries: Record<string, unknown> = {};
  let offset = 0;
  for (const tensor of tensors) {
    entries[tensor.name] = { dtype: tensor.safetensorsDtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  let json = JSON.stringify(entries);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const header = Buffer.alloc(8 + json.length);
  header.writeBigUInt64LE(BigInt(json.length), 0);
  header.write(json, 8, 'latin1');
  let position = header.byteLength;
  const offsets = tensors.map((tensor) => {
    const start = position;
    position += tensor.data.byteLength;
    return start;
  });
  return { header, offsets };
}

/**
 * The `.npy` (v1.0) header for a little-endian C-order array.
 *
 * @example
 * ```ts
 * const header = npyFixtureHeader('<f4', [1024, 1024]);
 * ```
 */
export function npyFixtureHeader(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + dict.length + 1;
  dict += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const header = Buffer.alloc(10 + dict.length);
  header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  header.writeUInt16LE(dict.length, 8);
  header.write(dict, 10, 'latin1');
  return header;
}

/**
 * Writes header and data pieces to `path` (plain `fs`, no fsync): fixture files only.
 * `writeBytes`: at most that many bytes a write (how the page cache comes to hold the file).
 *
 * @example
 * ```ts
 * writeFixtureFile(path, [header, ...tensors.map((t) => t.data)]);
 * ```
 */
export function writeFixtureFile(path: string, pieces: readonly Uint8Array[], options: { writeBytes?: number } = {}): void {
  const fd = openSync(path, 'w');
  try {
    for (const piece of pieces) {
      const step = options.writeBytes ?? piece.byteLength;
      let done = 0;
      while (done < piece.byteLength) done += writeSync(fd, piece, done, Math.min(step, piece.byteLength - done));
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The same pieces written twice in `dir`: `whole.<extension>` in one write a piece (its
 * page cache in large folios on ext4: a mapping fault maps 2 MiB) and `pieces.<extension>`
 * in 64 KiB writes (small folios, as `torch.save` leaves a `.pt`: a fault maps 64 KiB).
 * Keyed by that label, for the A/B tools' rounds.
 *
 * @example
 * ```ts
 * const files = writeFolioPair(dir, 'safetensors', [header, ...tensors.map((t) => t.data)]);
 * ```
 */
export function writeFolioPair(dir: string, extension: string, pieces: readonly Uint8Array[]): { 'large folios': string; 'small folios': string } {
  const files = { 'large folios': join(dir, `whole.${extension}`), 'small folios': join(dir, `pieces.${extension}`) };
  writeFixtureFile(files['large folios'], pieces);
  writeFixtureFile(files['small folios'], pieces, { writeBytes: 64 * 1024 });
  return files;
}
