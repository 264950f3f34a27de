/**
 * SciPy's sparse `.npz` files (`scipy.sparse.save_npz`): one sparse matrix stored as
 * plain members, `format` (a bytes scalar, `b'csr'`, `b'csc'` or `b'coo'`), `shape`,
 * `data` and `indices` + `indptr` (CSR, CSC) or `row` + `col` (2-D COO) or `coords`
 * (n-D COO), plus `_is_array` for a sparse array (not matrix).
 *
 * The npz reader shows such a file as one multi-part tensor named
 * {@link SCIPY_SPARSE_TENSOR_NAME}: CSR as `sparse_csr` (its members are the parts, read
 * where they lie), COO as `sparse_coo` (`coords` is `row` then `col`), and CSC as
 * `sparse_coo` too, since the seam has no column-compressed layout: its coordinates are
 * computed from `indices` (rows) and `indptr` (columns), nnz × 2 indices. The writer
 * does the reverse for one sparse tensor: `scipy.sparse.load_npz` reads the result.
 */
import { TensioError } from '../../core/errors.js';
import { itemSize, type DType } from '../../core/dtype.js';
import { quoteInput } from '../../core/quote.js';
import type { TensorLocation } from '../../model/create-reader.js';
import { checkSparseLayout, type TensorLayout, type TensorPartInfo } from '../../model/layouts.js';
import type { Metadata, TensorInfo, TensorSpec } from '../../model/types.js';
import { npyIsLiteralDict, npyIsLiteralTuple, npyParseLiteral } from '../npy/literal.js';
import { npyReadPrefix } from '../npy/read.js';
import { allocateZeroed } from '../../core/memory.js';

/** The name of the one tensor a SciPy sparse `.npz` reads as (SciPy stores no name). */
export const SCIPY_SPARSE_TENSOR_NAME = 'sparse';

/** The member holding SciPy's format name; its dtype (`|S3`) is one tensio has no tensors of. */
export const SCIPY_FORMAT_KEY = 'format';

/** Largest `format` member read to learn the name (a real one is about 130 bytes). */
export const SCIPY_FORMAT_MAX_BYTES = 4096;

/** Metadata keys a SciPy sparse file reads with (and the writer takes). */
export const SCIPY_METADATA = { format: 'scipy_format', isArray: 'scipy_is_array' } as const;

/**
 * The text of SciPy's `format` member (`'csr'`), from the member's whole `.npy` bytes:
 * a 0-d bytes (`|S<n>`) or unicode (`<U<n>`) scalar. Undefined for anything else.
 *
 * @example
 * ```ts
 * scipyFormatName(await zip.readEntry(zip.entry('format.npy')!)); // 'csr'
 * ```
 */
export function scipyFormatName(npy: Uint8Array): string | undefined {
  try {
    const prefix = npyReadPrefix(npy, npy.byteLength, { format: 'npz' });
    const start = prefix.headerStart + prefix.headerLength;
    const header = npyParseLiteral(new TextDecoder('latin1').decode(npy.subarray(prefix.headerStart, start)), 'npz');
    if (!npyIsLiteralDict(header)) return undefined;
    const field = (key: string) => header.entries.find(([name]) => name === key)?.[1];
    const descr = field('descr');
    const shape = field('shape');
    if (typeof descr !== 'string' || !shape || !npyIsLiteralTuple(shape) || shape.items.length !== 0) return undefined;
    const bytesMatch = /^\|S(\d{1,3})$/.exec(descr);
    if (bytesMatch) {
      const data = npy.subarray(start, start + Number(bytesMatch[1]));
      const end = data.indexOf(0);
      return String.fromCharCode(...(end < 0 ? data : data.subarray(0, end)));
    }
    const textMatch = /^([<>])U(\d{1,3})$/.exec(descr);
    if (textMatch) {
      const count = Number(textMatch[2]);
      const data = npy.subarray(start, start + count * 4);
      if (data.byteLength !== count * 4) return undefined;
      const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
      let text = '';
      for (let i = 0; i < count; i++) {
        const code = view.getUint32(i * 4, textMatch[1] === '<');
        if (code === 0) break;
        if (code > 0x10ffff) return undefined;
        text += String.fromCodePoint(code);
      }
      return text;
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** How the reader reaches the members a sparse view is made of. */
export interface ScipyMemberAccess {
  /** The `.npy` members by key (`data`, `indices`, …), as dense tensor infos. */
  readonly members: ReadonlyMap<string, TensorInfo>;
  /** Where a member's bytes are (tensio's layout). */
  locate(info: TensorInfo): Promise<TensorLocation>;
  /** A member's bytes, whole (small members: `shape`, `_is_array`; CSC's index arrays). */
  read(key: string, signal?: AbortSignal): Promise<Uint8Array>;
}

/** A SciPy sparse file seen as one multi-part tensor. */
export interface ScipySparseView {
  readonly info: TensorInfo;
  /** The member keys the tensor stands for (not listed as tensors of their own). */
  readonly consumed: ReadonlySet<string>;
  readonly metadata: Metadata;
  locatePart(part: TensorPartInfo): Promise<TensorLocation>;
}

const INDEX_DTYPES: readonly DType[] = ['int32', 'int64', 'uint32', 'uint64', 'int16', 'uint16', 'int8', 'uint8'];

/** Integer values of a 1-D index array of one of {@link INDEX_DTYPES}, as numbers (exact below 2^53). */
function integers(bytes: Uint8Array, dtype: DType): (index: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'int64': return (i) => Number(view.getBigInt64(i * 8, true));
    case 'uint64': return (i) => Number(view.getBigUint64(i * 8, true));
    case 'int32': return (i) => view.getInt32(i * 4, true);
    case 'uint32': return (i) => view.getUint32(i * 4, true);
    case 'int16': return (i) => view.getInt16(i * 2, true);
    case 'uint16': return (i) => view.getUint16(i * 2, true);
    case 'int8': return (i) => view.getInt8(i);
    default: return (i) => view.getUint8(i);
  }
}

/** Writes `value` as element `index` of an index array of `dtype`. */
function setInteger(view: DataView, dtype: DType, index: number, value: number): void {
  switch (dtype) {
    case 'int64': view.setBigInt64(index * 8, BigInt(value), true); break;
    case 'uint64': view.setBigUint64(index * 8, BigInt(value), true); break;
    case 'int32': view.setInt32(index * 4, value, true); break;
    case 'uint32': view.setUint32(index * 4, value, true); break;
    case 'int16': view.setInt16(index * 2, value, true); break;
    case 'uint16': view.setUint16(index * 2, value, true); break;
    case 'int8': view.setInt8(index, value); break;
    default: view.setUint8(index, value);
  }
}

/** A part of the member `info`'s dtype and `shape` (the member's own, or CSC/COO's joined `[2, nnz]`). */
const partOf = (name: string, info: TensorInfo, shape: readonly number[] = info.shape): TensorPartInfo => ({
  name, dtype: info.dtype, shape, byteLength: (itemSize(info.dtype) ?? 0) * shape.reduce((a, b) => a * b, 1), ...(info.formatDtype ? { formatDtype: info.formatDtype } : {}),
});

/**
 * The sparse tensor a SciPy `.npz` holds, or why its members do not make one (then the
 * reader lists them as they are). `formatName` is the `format` member's text.
 *
 * @example
 * ```ts
 * const view = await scipySparseView('csr', access);
 * if ('info' in view) tensors.push(view.info);
 * ```
 */
export async function scipySparseView(formatName: string, access: ScipyMemberAccess, signal?: AbortSignal): Promise<ScipySparseView | { skipped: string }> {
  const { members } = access;
  const kind = formatName.toLowerCase();
  if (kind !== 'csr' && kind !== 'csc' && kind !== 'coo') return { skipped: `SciPy format ${quoteInput(formatName)} is not one tensio reads as sparse (csr, csc, coo)` };
  const need = kind === 'coo' ? (members.has('coords') ? ['data', 'shape', 'coords'] : ['data', 'shape', 'row', 'col']) : ['data', 'shape', 'indices', 'indptr'];
  const missing = need.filter((key) => !members.has(key));
  if (missing.length > 0) return { skipped: `SciPy ${kind} file without the member${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
  const shapeInfo = members.get('shape')!;
  if (shapeInfo.shape.length !== 1 || !INDEX_DTYPES.includes(shapeInfo.dtype) || shapeInfo.shape[0]! < 1 || shapeInfo.shape[0]! > 64) return { skipped: `SciPy shape member is ${shapeInfo.dtype} [${shapeInfo.shape.join(', ')}], not a short list of integers` };
  const shapeBytes = await access.read('shape', signal);
  const readShape = integers(shapeBytes, shapeInfo.dtype);
  const shape = Array.from({ length: shapeInfo.shape[0]! }, (_, i) => readShape(i));
  if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) return { skipped: `SciPy shape [${shape.join(', ')}] is not a list of sizes` };
  const data = members.get('data')!;
  const consumed = new Set([SCIPY_FORMAT_KEY, ...need]);
  let isArray: boolean | undefined;
  const isArrayInfo = members.get('_is_array');
  if (isArrayInfo && isArrayInfo.dtype === 'bool' && isArrayInfo.shape.length === 0) {
    isArray = (await access.read('_is_array', signal))[0] !== 0;
    consumed.add('_is_array');
  }
  const metadata: Metadata = { [SCIPY_METADATA.format]: kind, ...(isArray !== undefined ? { [SCIPY_METADATA.isArray]: isArray } : {}) };
  let layout: TensorLayout;
  let parts: TensorPartInfo[];
  const sources = new Map<string, TensorInfo | (() => Promise<Uint8Array>)>();
  if (kind === 'csr') {
    layout = { kind: 'sparse_csr' };
    parts = [partOf('values', data), partOf('indices', members.get('indices')!), partOf('indptr', members.get('indptr')!)];
    sources.set('values', data).set('indices', members.get('indices')!).set('indptr', members.get('indptr')!);
  } else if (kind === 'coo' && members.has('coords')) {
    layout = { kind: 'sparse_coo' };
    const coords = members.get('coords')!;
    parts = [partOf('values', data), partOf('coords', coords)];
    sources.set('values', data).set('coords', coords);
  } else {
    layout = { kind: 'sparse_coo' };
    // COO's row + col, or CSC's indices (rows) + indptr (columns, expanded): one [2, nnz] part.
    const rows = members.get(kind === 'coo' ? 'row' : 'indices')!;
    const other = members.get(kind === 'coo' ? 'col' : 'indptr')!;
    if (rows.shape.length !== 1 || other.shape.length !== 1 || rows.dtype !== other.dtype || !INDEX_DTYPES.includes(rows.dtype)) {
      return { skipped: `SciPy ${kind} index members are ${rows.dtype} [${rows.shape.join(', ')}] and ${other.dtype} [${other.shape.join(', ')}], not two 1-D arrays of one integer dtype` };
    }
    const nnz = rows.shape[0]!;
    parts = [partOf('values', data), partOf('coords', rows, [2, nnz])];
    sources.set('values', data).set('coords', async () => {
      const first = await access.read(rows.name, signal);
      const second = kind === 'coo' ? await access.read(other.name, signal) : cscColumns(await access.read(other.name, signal), rows.dtype, nnz, shape[1] ?? 0);
      const joined = new Uint8Array(first.byteLength + second.byteLength);
      joined.set(first);
      joined.set(second, first.byteLength);
      return joined;
    });
  }
  const info: TensorInfo = {
    name: SCIPY_SPARSE_TENSOR_NAME, dtype: data.dtype, shape, layout, parts,
    byteLength: parts.reduce((sum, part) => sum + part.byteLength, 0),
    ...(data.formatDtype ? { formatDtype: data.formatDtype } : {}),
    extras: { scipyFormat: kind, members: [...consumed].map((key) => `${key}.npy`) },
  };
  try {
    checkSparseLayout(info, 'npz');
  } catch (error) {
    if (error instanceof TensioError) return { skipped: `SciPy ${kind} members do not make a sparse tensor: ${error.message.replace(/^npz: /, '')}` };
    throw error;
  }
  return {
    info, consumed, metadata,
    async locatePart(part) {
      const source = sources.get(part.name)!;
      if (typeof source === 'function') return { kind: 'decode', decode: () => source() };
      return access.locate(source);
    },
  };
}

/**
 * The column of each stored value of a CSC matrix, from its `indptr` (`columns + 1`
 * offsets): value `k` is in column `j` when `indptr[j] <= k < indptr[j+1]`. Checks the
 * offsets (start at 0, never decrease, end at nnz) before writing anything.
 */
function cscColumns(indptrBytes: Uint8Array, dtype: DType, nnz: number, columns: number): Uint8Array {
  const fail = (message: string): never => {
    throw new TensioError('INVALID_LAYOUT', `npz: SciPy csc matrix: ${message}`, { format: 'npz' });
  };
  const size = itemSize(dtype)!;
  if (indptrBytes.byteLength !== (columns + 1) * size) fail(`indptr holds ${indptrBytes.byteLength / size} offsets, the shape needs ${columns + 1}`);
  const offset = integers(indptrBytes, dtype);
  if (offset(0) !== 0) fail(`indptr starts at ${offset(0)}, not 0`);
  if (offset(columns) !== nnz) fail(`indptr ends at ${offset(columns)}, there are ${nnz} values`);
  const out = allocateZeroed(nnz * size);
  const view = new DataView(out.buffer);
  for (let column = 0; column < columns; column++) {
    const start = offset(column);
    const end = offset(column + 1);
    if (end < start || end > nnz) fail(`indptr[${column + 1}] = ${end} is below indptr[${column}] = ${start} or past ${nnz}`);
    for (let k = start; k < end; k++) setInteger(view, dtype, k, column);
  }
  return out;
}

/** One member a sparse tensor is written as: its key, npy spec and where its bytes come from. */
export interface ScipyMemberPlan {
  readonly key: string;
  readonly spec: TensorSpec;
  /** The part whose bytes (or a byte range of them) the member holds; none for `format`/`shape`/`_is_array`. */
  readonly from?: { readonly part: string; readonly start: number; readonly length: number };
  /** The member's bytes when they are known up front (`shape`, `_is_array`). */
  readonly bytes?: Uint8Array;
}

/**
 * The members a sparse tensor is written as for `scipy.sparse.load_npz` (in the order
 * its parts arrive, then `shape` and `_is_array`; `format` is written apart, as it has
 * a bytes dtype), or why it cannot be.
 *
 * @example
 * ```ts
 * const plan = scipyMemberPlan(spec, metadata); // [{ key: 'data', … }, { key: 'indices', … }, …]
 * ```
 */
export function scipyMemberPlan(spec: TensorSpec, metadata: Metadata | undefined): { members: ScipyMemberPlan[]; formatName: 'csr' | 'coo' } | { refused: string } {
  const kind = spec.layout?.kind;
  if (kind !== 'sparse_csr' && kind !== 'sparse_coo') return { refused: `a ${kind ?? 'dense'} tensor is not a SciPy sparse matrix` };
  const parts = spec.parts ?? [];
  const members: ScipyMemberPlan[] = [];
  const keyOf: Record<string, string> = { values: 'data', indices: 'indices', indptr: 'indptr' };
  for (const part of parts) {
    if (part.name === 'coords') {
      const [ndim, nnz] = part.shape as [number, number];
      const row = nnz * itemSize(part.dtype)!;
      if (ndim === 2) {
        // SciPy writes a 2-D COO matrix as row and col (load_npz reads coords too, but older SciPy does not).
        members.push({ key: 'row', spec: { name: 'row', dtype: part.dtype, shape: [nnz] }, from: { part: part.name, start: 0, length: row } });
        members.push({ key: 'col', spec: { name: 'col', dtype: part.dtype, shape: [nnz] }, from: { part: part.name, start: row, length: row } });
      } else {
        members.push({ key: 'coords', spec: { name: 'coords', dtype: part.dtype, shape: part.shape }, from: { part: part.name, start: 0, length: part.byteLength } });
      }
      continue;
    }
    const key = keyOf[part.name];
    if (!key) return { refused: `part ${quoteInput(part.name)} has no SciPy member` };
    members.push({ key, spec: { name: key, dtype: part.dtype, shape: part.shape }, from: { part: part.name, start: 0, length: part.byteLength } });
  }
  const shape = new Uint8Array(spec.shape.length * 8);
  spec.shape.forEach((dim, i) => new DataView(shape.buffer).setBigInt64(i * 8, BigInt(dim), true));
  members.push({ key: 'shape', spec: { name: 'shape', dtype: 'int64', shape: [spec.shape.length] }, bytes: shape });
  if (metadata?.[SCIPY_METADATA.isArray] === true) members.push({ key: '_is_array', spec: { name: '_is_array', dtype: 'bool', shape: [] }, bytes: Uint8Array.of(1) });
  return { members, formatName: kind === 'sparse_csr' ? 'csr' : 'coo' };
}
