/**
 * Recognising Arrow IPC bytes cheaply (no library loaded): the file format and Feather
 * v2 start with `ARROW1`, Feather v1 with `FEA1`, and a stream with an encapsulated
 * message whose metadata parses as a Schema, Tensor or SparseTensor message.
 */
import { arrowHasMagic, arrowMessagePrefix, arrowParseMessage, FEATHER_V1_MAGIC } from './read.js';
import { ARROW_MESSAGE } from './types.js';

/**
 * True when `head` (the first bytes of a file) looks like Arrow IPC.
 *
 * @example
 * ```ts
 * arrowSniff(new TextEncoder().encode('ARROW1\0\0')); // true
 * ```
 */
export function arrowSniff(head: Uint8Array): boolean {
  if (arrowHasMagic(head)) return true;
  if (head.byteLength >= 8 && FEATHER_V1_MAGIC.every((byte, i) => head[i] === byte)) return true;
  if (head.byteLength < 16 || head[0] !== 0xff || head[1] !== 0xff || head[2] !== 0xff || head[3] !== 0xff) return false;
  try {
    const { prefixBytes, metadataLength } = arrowMessagePrefix(head);
    if (metadataLength === 0 || prefixBytes + metadataLength > head.byteLength) return false;
    const message = arrowParseMessage(head.subarray(prefixBytes, prefixBytes + metadataLength));
    return message.headerType === ARROW_MESSAGE.Schema || message.headerType === ARROW_MESSAGE.Tensor || message.headerType === ARROW_MESSAGE.SparseTensor;
  } catch {
    return false;
  }
}
