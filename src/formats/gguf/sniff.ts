/**
 * The GGUF magic and its check: what the registry's cheap descriptor needs to recognise
 * a file, without the header parser.
 */

/** `GGUF` as the first four bytes. */
export const GGUF_MAGIC = new Uint8Array([0x47, 0x47, 0x55, 0x46]);

/**
 * True when the bytes start with `GGUF`.
 *
 * @example
 * ```ts
 * ggufHasMagic(new TextEncoder().encode('GGUF')); // true
 * ```
 */
export function ggufHasMagic(head: Uint8Array): boolean {
  return head.byteLength >= 4 && head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46;
}
