/**
 * Two object header messages of a chunked dataset that the direct path needs besides
 * its layout (HDF5 file format specification, version 3, IV.A.2.k and IV.A.2.f): the
 * filter pipeline (which filters, in which order, with which client data) and the fill
 * value (what a chunk that was never written reads as). Decoded the way libhdf5 decodes
 * them (`H5Opline.c`, `H5Ofill.c`); anything else declines. Pure; no Node import.
 */
import { Cursor, decline } from './location-cursor.js';

/** One filter of a dataset's pipeline, in the order it was applied when writing. */
export interface Hdf5PipelineFilter {
  /** HDF5 filter id: 1 deflate, 2 shuffle, 3 Fletcher-32, … */
  readonly id: number;
  /** The filter's client data (deflate: level; shuffle: element size). */
  readonly clientData: readonly number[];
}

/**
 * Decodes a filter pipeline message (versions 1 and 2).
 *
 * @example
 * ```ts
 * hdf5DecodePipeline(body); // [{ id: 2, clientData: [4] }, { id: 1, clientData: [6] }]: shuffle, then deflate
 * ```
 */
export function hdf5DecodePipeline(body: Uint8Array): Hdf5PipelineFilter[] {
  const c = new Cursor(body, 8, 8);
  const version = c.u8();
  if (version !== 1 && version !== 2) decline(`filter pipeline message version ${version}`);
  const count = c.u8();
  if (version === 1) c.skip(6);
  const filters: Hdf5PipelineFilter[] = [];
  for (let i = 0; i < count; i++) {
    const id = c.u16();
    // Version 2 leaves the name out for the predefined filters (ids below 256).
    const nameBytes = version === 1 || id >= 256 ? c.u16() : 0;
    c.u16(); // flags (optional or mandatory): a skipped optional filter shows in each chunk's mask
    const values = c.u16();
    if (version === 1 && nameBytes % 8 !== 0) decline(`a filter name of ${nameBytes} bytes (not padded to 8)`);
    c.skip(nameBytes);
    const clientData = Array.from({ length: values }, () => c.u32());
    if (version === 1 && values % 2 === 1) c.skip(4);
    filters.push({ id, clientData });
  }
  return filters;
}

/** libhdf5's fill value write times (`H5D_fill_time_t`). */
const FILL_TIME_NEVER = 1;
const FILL_TIME_IFSET = 2;

/**
 * The bytes of one element that a chunk never written reads as: the dataset's fill
 * value, zeros for libhdf5's default one. Declines when libhdf5 would leave such a
 * chunk's elements unset (fill time "never", or "if set" with no value defined: the
 * caller's buffer keeps whatever it held) or the value is not one element.
 * `newBody` is the fill value message (type 5), `oldBody` the old one (type 4).
 *
 * @example
 * ```ts
 * hdf5FillElement(fillMessage, undefined, 4); // Uint8Array [0, 0, 192, 127] for h5py's fillvalue=np.nan as float32
 * ```
 */
export function hdf5FillElement(newBody: Uint8Array | undefined, oldBody: Uint8Array | undefined, elementBytes: number): Uint8Array {
  let fillTime: number;
  /** -1: undefined; 0: libhdf5's default (zeros); otherwise the bytes of the value. */
  let size: number;
  let value: Uint8Array | undefined;
  if (newBody) {
    const c = new Cursor(newBody, 8, 8);
    const version = c.u8();
    if (version === 1 || version === 2) {
      c.u8(); // space allocation time
      fillTime = c.u8();
      const defined = c.u8();
      size = defined ? c.u32() : -1;
    } else if (version === 3) {
      const flags = c.u8();
      fillTime = (flags >> 2) & 0x03;
      if (flags & 0x10) size = -1;
      else if (flags & 0x20) size = c.u32();
      else size = 0;
    } else {
      decline(`fill value message version ${version}`);
    }
    if (size > 0) {
      c.skip(size);
      value = newBody.subarray(c.at - size, c.at);
    }
  } else if (oldBody) {
    // Files from before libhdf5 1.6: only the old message; libhdf5 fills when it is set.
    const c = new Cursor(oldBody, 8, 8);
    size = c.u32();
    fillTime = FILL_TIME_IFSET;
    if (size > 0) {
      c.skip(size);
      value = oldBody.subarray(c.at - size, c.at);
    }
  } else {
    decline('no fill value message (chunks never written)');
  }
  if (fillTime === FILL_TIME_NEVER || (fillTime === FILL_TIME_IFSET && size < 0)) decline('chunks never written and no fill value (libhdf5 leaves them unset)');
  if (size < 0) decline('chunks never written with an undefined fill value');
  if (size === 0) return new Uint8Array(elementBytes);
  if (size !== elementBytes) decline(`a fill value of ${size} bytes for ${elementBytes}-byte elements`);
  return value!;
}
