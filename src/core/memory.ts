/**
 * Buffer allocation for reads. Fresh memory is the real cost of loading on this class
 * of machine (first touch runs at about a third of the page-cache read speed), so
 * buffers that a read overwrites entirely are allocated without zero-filling.
 */

/**
 * A buffer the caller will overwrite entirely, so it need not be zeroed first: in Node,
 * `Buffer.allocUnsafeSlow` skips the zero-fill and lets the allocator hand back memory
 * it already has (zeroed memory must be fresh pages, touched twice). Elsewhere, a plain
 * `Uint8Array`. The result is a plain `Uint8Array` view either way. Never hand the
 * result out before every byte was written: it may hold stale data.
 *
 * @example
 * ```ts
 * const target = allocateUninitialized(info.byteLength);
 * await source.readInto(target, offset);
 * ```
 */
export function allocateUninitialized(length: number): Uint8Array {
  const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(size: number): Uint8Array } }).Buffer;
  if (!NodeBuffer || length === 0) return new Uint8Array(length);
  const buffer = NodeBuffer.allocUnsafeSlow(length);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, length);
}
