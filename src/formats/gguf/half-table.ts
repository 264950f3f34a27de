/**
 * float16 bits → float32 value for all 65,536 patterns, built once on first use: the
 * dequantizers read every block scale through it (one indexed load, no bit twiddling).
 */
import { toFloat32Array } from '../../core/float-convert.js';
import { createTensor } from '../../core/tensor.js';

let halfTable: Float32Array | undefined;

/** The table: `halves()[bits]` is the float16 with those bits, as float32 (exact). */
export function halves(): Float32Array {
  if (!halfTable) {
    const bits = new Uint16Array(65536);
    for (let h = 0; h < 65536; h++) bits[h] = h;
    halfTable = toFloat32Array(createTensor('float16', [65536], bits));
  }
  return halfTable;
}
