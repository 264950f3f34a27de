/**
 * Pure checks of a parsed zTensor manifest (§1.9 steps 12-13: shard sizes, names,
 * shapes, blob placement, type pins, layout metadata, per-file overlap) and the data
 * rules that run only on read, verify or assembly (bool bytes, the odd f4 nibble, CSR
 * pointers and indices, COO coordinates).
 */
import {
  ZT_ALIGN_FLOOR, ZT_FOOTER_BYTES, ZT_LAYOUT_COO, ZT_LAYOUT_MX, ZT_LAYOUT_QUANT_GROUP, ZT_LAYOUT_CSR, ZT_LAYOUT_DENSE, ZT_LOGICAL_TYPES, ZT_MAX_RANK, ZT_MIN_FILE_BYTES,
  ZT_STORAGE_DTYPES, ztDecodedSize, ztReject, type ZtManifest, type ZtObject, type ZtPart,
} from './types.js';

const U64_MAX = 2n ** 64n - 1n;

/** Element count of a shape (`[]` is 1); `Shape` when the product overflows u64. */
export function ztElementCount(name: string, shape: readonly bigint[]): bigint {
  let count = 1n;
  for (const dim of shape) {
    count *= dim;
    if (count > U64_MAX) ztReject('Shape', `${JSON.stringify(name)}: shape [${shape.join(', ')}] has more than 2^64 elements`);
  }
  return count;
}

/** Decoded bytes of `n` elements of a part's (dtype, type), or undefined for an unregistered type. */
export function ztSizeOf(part: Pick<ZtPart, 'dtype' | 'type'>, n: bigint): bigint | undefined {
  if (part.type === undefined) return n * BigInt(ZT_STORAGE_DTYPES[part.dtype]!.width);
  return ZT_LOGICAL_TYPES[part.type]?.size(n);
}

/**
 * Steps 12-13 of the reference's check order over a parsed manifest: shard sizes; per
 * object (bytewise name order) the rank and the element count; per part its alignment,
 * shard reference, bounds and type pin; the layout's metadata rules; then identical-or-
 * disjoint blobs per file. `dataEnd` is the file size minus the footer.
 *
 * @example
 * ```ts
 * ztValidateManifest(manifest, size - 40, [footer.offset, footer.length]);
 * ```
 */
export function ztValidateManifest(manifest: ZtManifest, dataEnd: bigint, manifestBlob: readonly [bigint, bigint]): void {
  for (const [name, shard] of manifest.shards) {
    if (shard.size < BigInt(ZT_MIN_FILE_BYTES)) ztReject('Schema', `shard ${JSON.stringify(name)}: size ${shard.size} is below the ${ZT_MIN_FILE_BYTES}-byte minimum of a file`);
  }
  const refsByFile = new Map<string, Array<[bigint, bigint]>>([['', [[manifestBlob[0], manifestBlob[1]]]]]);
  const floor = BigInt(ZT_ALIGN_FLOOR);
  for (const [name, object] of manifest.objects) {
    if (object.shape.length > ZT_MAX_RANK) ztReject('Shape', `${JSON.stringify(name)}: rank ${object.shape.length} is more than ${ZT_MAX_RANK}`);
    ztElementCount(name, object.shape);
    for (const [partName, part] of object.parts) {
      const label = `${JSON.stringify(name)}/${JSON.stringify(partName)}`;
      const { offset, length, shard } = part.blob;
      if (offset % floor !== 0n || offset < floor) ztReject('BlobAlignment', `${label}: blob offset ${offset} is not a multiple of ${ZT_ALIGN_FLOOR} at or past ${ZT_ALIGN_FLOOR}`);
      let regionEnd = dataEnd;
      if (shard !== undefined) {
        const entry = manifest.shards.get(shard);
        if (!entry) ztReject('ShardRef', `${label}: shard ${JSON.stringify(shard)} is not in the manifest's shard table`);
        regionEnd = entry.size - BigInt(ZT_FOOTER_BYTES);
      }
      if (offset + length > regionEnd) ztReject('BlobBounds', `${label}: blob [${offset}, +${length}] runs past the data region (${regionEnd} bytes${shard !== undefined ? ` of shard ${JSON.stringify(shard)}` : ''})`);
      if (length > 0n) {
        const key = shard ?? '';
        const refs = refsByFile.get(key) ?? [];
        refs.push([offset, length]);
        refsByFile.set(key, refs);
      }
      if (part.type !== undefined) {
        const registered = ZT_LOGICAL_TYPES[part.type];
        if (registered && registered.storage !== part.dtype) ztReject('Schema', `${label}: type ${part.type} needs dtype ${registered.storage}, the part says ${part.dtype}`);
      }
    }
    ztValidateLayout(name, object);
  }
  for (const [file, refs] of refsByFile) {
    refs.sort(([a, al], [b, bl]) => (a < b ? -1 : a > b ? 1 : al < bl ? -1 : al > bl ? 1 : 0));
    for (let i = 1; i < refs.length; i++) {
      const [prevOffset, prevLength] = refs[i - 1]!;
      const [offset, length] = refs[i]!;
      if (offset === prevOffset && length === prevLength) continue; // identical references are legal (tying, dedup)
      if (prevOffset + prevLength > offset) {
        ztReject('BlobOverlap', `blobs at ${prevOffset} (+${prevLength}) and ${offset} (+${length}) in ${file === '' ? 'this file' : `shard ${JSON.stringify(file)}`} partially overlap`);
      }
    }
  }
}

/** The layout's metadata rules (part names, dtypes, decoded sizes). Unknown layouts stay structural. */
export function ztValidateLayout(name: string, object: ZtObject): void {
  const fail = (message: string): never => ztReject('LayoutRule', `${JSON.stringify(name)} (${object.layout}): ${message}`);
  const partNames = [...object.parts.keys()];
  if (object.layout === ZT_LAYOUT_DENSE) {
    const data = object.parts.get('data');
    if (partNames.length !== 1 || !data) fail(`dense needs exactly one part named "data", has ${partNames.map((p) => JSON.stringify(p)).join(', ')}`);
    const expected = ztSizeOf(data!, ztElementCount(name, object.shape));
    if (expected !== undefined && ztDecodedSize(data!) !== expected) {
      ztReject('DenseSize', `${JSON.stringify(name)}: ${data!.type ?? data!.dtype} [${object.shape.join(', ')}] needs ${expected} bytes, the part decodes to ${ztDecodedSize(data!)}`);
    }
    return;
  }
  if (object.layout === ZT_LAYOUT_CSR) {
    if (object.shape.length !== 2) fail(`needs a rank-2 shape, got [${object.shape.join(', ')}]`);
    if (partNames.length !== 3) fail(`needs exactly 3 parts (values, indices, indptr), has ${partNames.length}`);
    const values = object.parts.get('values');
    const indices = object.parts.get('indices');
    const indptr = object.parts.get('indptr');
    if (!values || !indices || !indptr) return fail('needs the parts "values", "indices" and "indptr"');
    if ((indices.dtype !== 'u32' && indices.dtype !== 'u64') || indices.type !== undefined) fail(`"indices" must be plain u32 or u64, got ${indices.type ?? indices.dtype}`);
    if (indptr.dtype !== indices.dtype || indptr.type !== undefined) fail(`"indptr" must have the dtype of "indices" (${indices.dtype}), got ${indptr.type ?? indptr.dtype}`);
    const width = BigInt(ZT_STORAGE_DTYPES[indices.dtype]!.width);
    const expectedIndptr = (object.shape[0]! + 1n) * width;
    if (expectedIndptr > U64_MAX) ztReject('Shape', `${JSON.stringify(name)}: rows overflow`);
    if (ztDecodedSize(indptr) !== expectedIndptr) fail(`"indptr" must hold rows+1 = ${object.shape[0]! + 1n} entries (${expectedIndptr} bytes), has ${ztDecodedSize(indptr)} bytes`);
    if (ztDecodedSize(indices) % width !== 0n) fail(`"indices" holds ${ztDecodedSize(indices)} bytes, not a multiple of ${width}`);
    const nnz = ztDecodedSize(indices) / width;
    const expectedValues = ztSizeOf(values, nnz);
    if (expectedValues !== undefined && ztDecodedSize(values) !== expectedValues) fail(`"values" holds ${ztDecodedSize(values)} bytes, ${expectedValues} needed for nnz ${nnz}`);
    return;
  }
  if (object.layout.startsWith('gguf.') && object.layout.endsWith('/1')) {
    // ggml blocks verbatim: one plain u8 "data" part, blocks along the innermost axis.
    const data = object.parts.get('data');
    if (partNames.length !== 1 || !data || data.dtype !== 'u8' || data.type !== undefined) return fail('needs exactly one plain u8 part "data"');
    const attributes = (object.attributes ?? {}) as Record<string, unknown>;
    const perBlock = attributes.elems_per_block;
    const blockBytes = attributes.block_bytes;
    if (typeof perBlock !== 'number' || typeof blockBytes !== 'number' || perBlock < 1 || blockBytes < 1) return fail('needs integer attributes elems_per_block and block_bytes, both ≥ 1');
    const inner = object.shape.length === 0 ? 1n : object.shape[object.shape.length - 1]!;
    if (inner % BigInt(perBlock) !== 0n) fail(`innermost dimension ${inner} is not a multiple of elems_per_block ${perBlock}`);
    const expected = (ztElementCount(name, object.shape) / BigInt(perBlock)) * BigInt(blockBytes);
    if (ztDecodedSize(data) !== expected) fail(`"data" holds ${ztDecodedSize(data)} bytes, ${expected} needed`);
    return;
  }
  if (object.layout === ZT_LAYOUT_QUANT_GROUP) return validateQuantGroup(name, object, fail);
  if (object.layout === ZT_LAYOUT_MX) return validateMx(name, object, fail);
  if (object.layout === ZT_LAYOUT_COO) {
    // The reference leaves COO structural; its rules are the spec's prose, enforced here.
    if (object.shape.length < 1) fail('needs rank 1 or more');
    const values = object.parts.get('values');
    const coords = object.parts.get('coords');
    if (partNames.length !== 2 || !values || !coords) return fail(`needs exactly the parts "values" and "coords", has ${partNames.join(', ')}`);
    if ((coords.dtype !== 'u32' && coords.dtype !== 'u64') || coords.type !== undefined) fail(`"coords" must be plain u32 or u64, got ${coords.type ?? coords.dtype}`);
    const step = BigInt(ZT_STORAGE_DTYPES[coords.dtype]!.width) * BigInt(object.shape.length);
    if (ztDecodedSize(coords) % step !== 0n) fail(`"coords" holds ${ztDecodedSize(coords)} bytes, not a multiple of width × rank = ${step}`);
    const nnz = ztDecodedSize(coords) / step;
    const expectedValues = ztSizeOf(values, nnz);
    if (expectedValues !== undefined && ztDecodedSize(values) !== expectedValues) fail(`"values" holds ${ztDecodedSize(values)} bytes, ${expectedValues} needed for nnz ${nnz}`);
  }
}

/**
 * Content rules of a registered logical type over decoded bytes: `bool` bytes are 0 or
 * 1; an odd count of `f4_e2m1` leaves the final high nibble, which must be 0. `elements`
 * is the element count when known (dense layouts).
 */
export function ztCheckContent(label: string, part: Pick<ZtPart, 'type'>, bytes: Uint8Array, elements: bigint | undefined): void {
  if (part.type === 'bool') {
    const bad = bytes.findIndex((byte) => byte > 1);
    if (bad >= 0) ztReject('LayoutData', `${label}: bool byte ${bad} is 0x${bytes[bad]!.toString(16)}, must be 0 or 1`);
  } else if (part.type === 'f4_e2m1' && elements !== undefined && elements % 2n === 1n && bytes.length > 0 && (bytes[bytes.length - 1]! & 0xf0) !== 0) {
    ztReject('LayoutData', `${label}: ${elements} f4 values leave the last high nibble unused, and it is 0x${(bytes[bytes.length - 1]! >> 4).toString(16)}, not 0`);
  }
}

/** Reads little-endian u32 or u64 indices as numbers (bigints beyond 2^53). */
export function ztIndexArray(bytes: Uint8Array, width: number): Array<number | bigint> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Array<number | bigint> = new Array(bytes.length / width);
  for (let i = 0; i < out.length; i++) {
    if (width === 4) out[i] = view.getUint32(i * 4, true);
    else {
      const value = view.getBigUint64(i * 8, true);
      out[i] = value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
    }
  }
  return out;
}

/**
 * CSR data rules at assembly: `indptr[0] == 0`, non-decreasing, `indptr[R] == nnz`;
 * indices strictly increasing within each row and below the column count. `LayoutData`.
 */
export function ztCheckCsrData(name: string, rows: number, columns: bigint, indptr: ReadonlyArray<number | bigint>, indices: ReadonlyArray<number | bigint>): void {
  const fail = (message: string): never => ztReject('LayoutData', `${JSON.stringify(name)} (CSR): ${message}`);
  if (BigInt(indptr[0] ?? 0) !== 0n) fail(`indptr[0] is ${indptr[0]}, must be 0`);
  for (let r = 0; r < rows; r++) {
    const start = BigInt(indptr[r]!);
    const end = BigInt(indptr[r + 1]!);
    if (end < start) fail(`indptr decreases at row ${r} (${start} → ${end})`);
    if (end > BigInt(indices.length)) fail(`indptr[${r + 1}] = ${end} is past nnz ${indices.length}`);
    let previous = -1n;
    for (let k = Number(start); k < Number(end); k++) {
      const column = BigInt(indices[k]!);
      if (column >= columns) fail(`row ${r} has column index ${column}, the matrix has ${columns} columns`);
      if (column <= previous) fail(`row ${r}: column indices must increase strictly (${previous} then ${column})`);
      previous = column;
    }
  }
  if (BigInt(indptr[rows] ?? 0) !== BigInt(indices.length)) fail(`indptr[${rows}] is ${indptr[rows]}, must be nnz = ${indices.length}`);
}

const WORD_WIDTHS: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };
const UNSIGNED_TWIN: Record<string, string> = { i8: 'u8', i16: 'u16', i32: 'u32', i64: 'u64' };

/** `zt.quant_group/1` metadata (the reference leaves it structural; the spec's prose rules, enforced). */
function validateQuantGroup(name: string, object: ZtObject, fail: (message: string) => never): void {
  const a = (object.attributes ?? {}) as Record<string, unknown>;
  const bits = a.bits;
  if (typeof bits !== 'number' || ![2, 3, 4, 5, 6, 8].includes(bits)) fail(`attribute bits must be 2, 3, 4, 5, 6 or 8, got ${JSON.stringify(bits)}`);
  const groupSize = a.group_size;
  if (typeof groupSize !== 'number' || !Number.isInteger(groupSize) || groupSize < 0) fail(`attribute group_size must be an unsigned integer, got ${JSON.stringify(groupSize)}`);
  const axis = a.axis;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < 0 || axis >= object.shape.length) fail(`attribute axis must be below the rank ${object.shape.length}, got ${JSON.stringify(axis)}`);
  const packing = (a.packing ?? {}) as Record<string, unknown>;
  const word = packing.word;
  const data = object.parts.get('data');
  const scales = object.parts.get('scales');
  if (!data || !scales) return fail('needs the parts "data" and "scales"');
  if (typeof word !== 'string' || !(word in WORD_WIDTHS) || (data.dtype !== word && UNSIGNED_TWIN[data.dtype] !== word)) fail(`packing.word must be u8/u16/u32/u64 and the data dtype (or its unsigned twin), got ${JSON.stringify(word)} over ${data.dtype}`);
  if (packing.order !== 'lsb_first' && packing.order !== 'msb_first') fail(`packing.order must be lsb_first or msb_first, got ${JSON.stringify(packing.order)}`);
  const width = WORD_WIDTHS[word as string]!;
  const perWord = Math.floor((8 * width) / (bits as number));
  if (packing.per_word !== undefined && packing.per_word !== perWord) fail(`packing.per_word must be 8·width/bits = ${perWord}, got ${JSON.stringify(packing.per_word)}`);
  const scaleForm = a.scale_form;
  if (scaleForm !== 'f32_factors' && scaleForm !== 'f16_factors' && scaleForm !== 'e8m0_exponent') fail(`scale_form must be f32_factors, f16_factors or e8m0_exponent, got ${JSON.stringify(scaleForm)}`);
  const zero = (a.zero_point ?? {}) as Record<string, unknown>;
  if (zero.form !== 'none' && zero.form !== 'implied' && zero.form !== 'tensor') fail(`zero_point.form must be none, implied or tensor, got ${JSON.stringify(zero.form)}`);
  if ((zero.form === 'implied') !== (zero.value !== undefined)) fail('zero_point.value is required exactly when the form is implied');
  if (zero.form === 'implied' && (typeof zero.value !== 'number' || !Number.isFinite(zero.value))) fail(`zero_point.value must be a finite number, got ${JSON.stringify(zero.value)}`);
  if ((zero.form === 'tensor') !== (zero.packing !== undefined)) fail('zero_point.packing is required exactly when the form is tensor');
  if (zero.form === 'tensor' && zero.packing !== 'same_as_data' && zero.packing !== 'plain') fail(`zero_point.packing must be same_as_data or plain, got ${JSON.stringify(zero.packing)}`);
  const zeros = object.parts.get('zeros');
  const expectedParts = zero.form === 'tensor' ? 3 : 2;
  if (object.parts.size !== expectedParts || (zero.form === 'tensor') !== (zeros !== undefined)) fail(`needs parts data, scales${zero.form === 'tensor' ? ' and zeros' : ''} exactly`);
  const product = ztElementCount(name, object.shape);
  const along = object.shape[axis as number]!;
  if (groupSize && along % BigInt(groupSize as number) !== 0n) fail(`shape[${axis}] = ${along} is not a multiple of group_size ${groupSize}`);
  const groups = groupSize ? along / BigInt(groupSize as number) : along;
  const lanes = along === 0n ? 0n : product / along;
  const check = (part: ZtPart, expected: bigint, what: string): void => {
    if (ztDecodedSize(part) !== expected) fail(`"${what}" holds ${ztDecodedSize(part)} bytes, ${expected} expected`);
  };
  if (product % BigInt(perWord) !== 0n) fail(`${product} values do not fill whole ${word} words of ${perWord}`);
  check(data, (product / BigInt(perWord)) * BigInt(width), 'data');
  const scaleWidth = BigInt(ZT_STORAGE_DTYPES[scales.dtype]!.width);
  check(scales, groups * lanes * scaleWidth, 'scales');
  if (zeros) check(zeros, zero.packing === 'plain' ? groups * lanes * BigInt(ZT_STORAGE_DTYPES[zeros.dtype]!.width) : ((groups * lanes) / BigInt(perWord)) * BigInt(width), 'zeros');
}

/** `zt.mx/1` metadata (the spec's prose rules). */
function validateMx(name: string, object: ZtObject, fail: (message: string) => never): void {
  const a = (object.attributes ?? {}) as Record<string, unknown>;
  const blockSize = a.block_size;
  if (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize < 2) fail(`attribute block_size must be an integer ≥ 2, got ${JSON.stringify(blockSize)}`);
  if (a.scale_form !== 'e8m0_exponent') fail(`scale_form must be "e8m0_exponent", got ${JSON.stringify(a.scale_form)}`);
  const axis = a.axis === undefined ? object.shape.length - 1 : a.axis;
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < 0 || axis >= object.shape.length) fail(`axis must be below the rank ${object.shape.length}, got ${JSON.stringify(axis)}`);
  const data = object.parts.get('data');
  const scales = object.parts.get('scales');
  if (object.parts.size !== 2 || !data || !scales) return fail('needs exactly the parts "data" and "scales"');
  if (scales.dtype !== 'u8' || scales.type !== 'f8_e8m0') fail(`"scales" must be u8 with type f8_e8m0, got ${scales.type ?? scales.dtype}`);
  if (!(data.type === 'f4_e2m1' || data.type === 'f8_e4m3fn' || data.type === 'f8_e5m2' || (data.type === undefined && data.dtype === 'i8'))) fail(`"data" must be f4_e2m1, f8_e4m3fn, f8_e5m2 or plain i8, got ${data.type ?? data.dtype}`);
  const along = object.shape[axis as number]!;
  if (along % BigInt(blockSize as number) !== 0n) fail(`shape[${axis}] = ${along} is not a multiple of block_size ${blockSize}`);
  const product = ztElementCount(name, object.shape);
  const expectedData = ztSizeOf(data, product)!;
  if (ztDecodedSize(data) !== expectedData) fail(`"data" holds ${ztDecodedSize(data)} bytes, ${expectedData} expected`);
  const blocks = product / BigInt(blockSize as number);
  if (ztDecodedSize(scales) !== blocks) fail(`"scales" holds ${ztDecodedSize(scales)} bytes, one per block (${blocks}) expected`);
}
