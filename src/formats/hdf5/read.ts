/**
 * HDF5 detection: the superblock signature sits at offset 0 or, behind a user block,
 * at 512, 1024, 2048, … (any power of two from 512 on). Pure, over bytes.
 */

/** The eight bytes every HDF5 superblock starts with. */
export const HDF5_SIGNATURE = Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a);

function signatureAt(bytes: Uint8Array, offset: number): boolean {
  if (offset + HDF5_SIGNATURE.byteLength > bytes.byteLength) return false;
  for (let i = 0; i < HDF5_SIGNATURE.byteLength; i++) if (bytes[offset + i] !== HDF5_SIGNATURE[i]) return false;
  return true;
}

/**
 * The offset of the superblock within `head` (0, 512, 1024, 2048, …), or `undefined`
 * when `head` holds none. A file whose user block is larger than `head` is not found
 * here (detection then falls back to the extension).
 *
 * @example
 * ```ts
 * hdf5SuperblockOffset(head); // 0 for h5py's files, 512 for a file with a 512-byte user block
 * ```
 */
export function hdf5SuperblockOffset(head: Uint8Array): number | undefined {
  if (signatureAt(head, 0)) return 0;
  for (let offset = 512; offset + HDF5_SIGNATURE.byteLength <= head.byteLength; offset *= 2) {
    if (signatureAt(head, offset)) return offset;
  }
  return undefined;
}

/**
 * True when `head` holds an HDF5 superblock signature at a place the format allows.
 *
 * @example
 * ```ts
 * hdf5Sniff(await source.read(0, 4096)); // true for .h5, .hdf5 and netCDF-4 files
 * ```
 */
export function hdf5Sniff(head: Uint8Array): boolean {
  return hdf5SuperblockOffset(head) !== undefined;
}
