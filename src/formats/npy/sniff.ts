/**
 * The `.npy` magic and its check: what the registry's cheap descriptor needs to
 * recognise a file, without the header parser.
 */

/** `\x93NUMPY`. */
export const NPY_MAGIC = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/**
 * True when bytes start with the `.npy` magic.
 *
 * @example
 * ```ts
 * npyHasMagic(head); // true for any .npy file
 * ```
 */
export function npyHasMagic(bytes: Uint8Array): boolean {
  return bytes.byteLength >= NPY_MAGIC.byteLength && NPY_MAGIC.every((byte, index) => bytes[index] === byte);
}
