/**
 * ggml blocks to float32, bit for bit as gguf-py 0.19's `gguf.quants.dequantize`
 * computes them (NumPy float32 arithmetic: every product and sum rounded to float32 in
 * the same order; a `Float32Array` store is the last rounding). Plain loops over typed
 * arrays into a caller's buffer: no per-element allocation, no intermediate arrays.
 *
 * Layouts follow ggml's `ggml-common.h` blocks; the element order inside a block is the
 * one gguf-py's reshapes give (which is ggml's `dequantize_row_*`).
 */
import type { DType } from '../../core/dtype.js';
import { DTYPE_INFO } from '../../core/dtype.js';
import { errorFactory } from '../../core/errors.js';
import { iq1_m, iq1_s, iq2_s, iq2_xs, iq2_xxs, iq3_s, iq3_xxs } from './dequantize-iq.js';
import { halves } from './half-table.js';
import { allocateZeroed } from '../../core/memory.js';

const fail = errorFactory('gguf');

/** Decodes `blocks` whole blocks from `src` at `s` into `out` at `o`. */
type BlockDecoder = (src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number) => void;

const fround = Math.fround;

function q4_0(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  for (let b = 0; b < blocks; b++, s += 18, o += 32) {
    const d = H[src[s]! | (src[s + 1]! << 8)]!;
    for (let j = 0; j < 16; j++) {
      const q = src[s + 2 + j]!;
      out[o + j] = d * ((q & 15) - 8);
      out[o + j + 16] = d * ((q >> 4) - 8);
    }
  }
}

function q4_1(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  for (let b = 0; b < blocks; b++, s += 20, o += 32) {
    const d = H[src[s]! | (src[s + 1]! << 8)]!;
    const m = H[src[s + 2]! | (src[s + 3]! << 8)]!;
    for (let j = 0; j < 16; j++) {
      const q = src[s + 4 + j]!;
      out[o + j] = fround(d * (q & 15)) + m;
      out[o + j + 16] = fround(d * (q >> 4)) + m;
    }
  }
}

function q5_0(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  for (let b = 0; b < blocks; b++, s += 22, o += 32) {
    const d = H[src[s]! | (src[s + 1]! << 8)]!;
    const qh = (src[s + 2]! | (src[s + 3]! << 8) | (src[s + 4]! << 16) | (src[s + 5]! << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = src[s + 6 + j]!;
      out[o + j] = d * (((q & 15) | (((qh >>> j) & 1) << 4)) - 16);
      out[o + j + 16] = d * (((q >> 4) | (((qh >>> (j + 16)) & 1) << 4)) - 16);
    }
  }
}

function q5_1(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  for (let b = 0; b < blocks; b++, s += 24, o += 32) {
    const d = H[src[s]! | (src[s + 1]! << 8)]!;
    const m = H[src[s + 2]! | (src[s + 3]! << 8)]!;
    const qh = (src[s + 4]! | (src[s + 5]! << 8) | (src[s + 6]! << 16) | (src[s + 7]! << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = src[s + 8 + j]!;
      out[o + j] = fround(d * ((q & 15) | (((qh >>> j) & 1) << 4))) + m;
      out[o + j + 16] = fround(d * ((q >> 4) | (((qh >>> (j + 16)) & 1) << 4))) + m;
    }
  }
}

/** The same bytes as signed int8 (one load per quant, no sign-extension shifts). */
const signed = (src: Uint8Array): Int8Array => new Int8Array(src.buffer, src.byteOffset, src.byteLength);

function q8_0(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const q = signed(src);
  for (let b = 0; b < blocks; b++, s += 34, o += 32) {
    const d = H[src[s]! | (src[s + 1]! << 8)]!;
    const at = s + 2;
    for (let j = 0; j < 32; j++) out[o + j] = d * q[at + j]!;
  }
}

function q2_k(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  // Per block: the 16 sub-block scales and mins, rounded to float32 as NumPy holds them.
  const dl = new Float32Array(16);
  const ml = new Float32Array(16);
  for (let b = 0; b < blocks; b++, s += 84, o += 256) {
    // scales[16] · qs[64] · d · dmin
    const d = H[src[s + 80]! | (src[s + 81]! << 8)]!;
    const dmin = H[src[s + 82]! | (src[s + 83]! << 8)]!;
    for (let k = 0; k < 16; k++) {
      const sc = src[s + k]!;
      dl[k] = d * (sc & 15);
      ml[k] = dmin * (sc >> 4);
    }
    // Value i = g·128 + shift·32 + j is bits 2·shift of byte g·32 + j; its scale is i >> 4.
    for (let g = 0; g < 2; g++) {
      for (let j = 0; j < 32; j++) {
        const q = src[s + 16 + g * 32 + j]!;
        const k = g * 8 + (j >> 4);
        const at = o + g * 128 + j;
        out[at] = fround(dl[k]! * (q & 3)) - ml[k]!;
        out[at + 32] = fround(dl[k + 2]! * ((q >> 2) & 3)) - ml[k + 2]!;
        out[at + 64] = fround(dl[k + 4]! * ((q >> 4) & 3)) - ml[k + 4]!;
        out[at + 96] = fround(dl[k + 6]! * (q >> 6)) - ml[k + 6]!;
      }
    }
  }
}

function q3_k(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const dl = new Float32Array(16);
  for (let b = 0; b < blocks; b++, s += 110, o += 256) {
    // hmask[32] · qs[64] · scales[12] · d
    const d = H[src[s + 108]! | (src[s + 109]! << 8)]!;
    const sc = s + 96;
    for (let k = 0; k < 16; k++) {
      const low = (src[sc + (k & 7)]! >> (4 * (k >> 3))) & 15;
      const high = (src[sc + 8 + (k & 3)]! >> (2 * (k >> 2))) & 3;
      dl[k] = d * ((low | (high << 4)) - 32);
    }
    // Value i = g·128 + shift·32 + j: bits 2·shift of qs[g·32 + j], bit i >> 5 of hmask[j].
    for (let g = 0; g < 2; g++) {
      for (let j = 0; j < 32; j++) {
        const q = src[s + 32 + g * 32 + j]!;
        const h = ~src[s + j]! >> (4 * g); // inverted: a clear bit subtracts 4
        const k = g * 8 + (j >> 4);
        const at = o + g * 128 + j;
        out[at] = dl[k]! * ((q & 3) - ((h & 1) << 2));
        out[at + 32] = dl[k + 2]! * (((q >> 2) & 3) - ((h & 2) << 1));
        out[at + 64] = dl[k + 4]! * (((q >> 4) & 3) - (h & 4));
        out[at + 96] = dl[k + 6]! * ((q >> 6) - ((h & 8) >> 1));
      }
    }
  }
}

/** The 8 six-bit scales and mins of a Q4_K/Q5_K block (12 bytes at `at`), into `sc` and `mn`. */
function scaleMins(src: Uint8Array, at: number, sc: Uint8Array, mn: Uint8Array): void {
  for (let k = 0; k < 4; k++) {
    sc[k] = src[at + k]! & 63;
    mn[k] = src[at + 4 + k]! & 63;
    sc[k + 4] = (src[at + 8 + k]! & 15) | ((src[at + k]! >> 2) & 0x30);
    mn[k + 4] = (src[at + 8 + k]! >> 4) | ((src[at + 4 + k]! >> 2) & 0x30);
  }
}

function q4_k(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const sc = new Uint8Array(8);
  const mn = new Uint8Array(8);
  for (let b = 0; b < blocks; b++, s += 144, o += 256) {
    // d · dmin · scales[12] · qs[128]
    const d = H[src[s]! | (src[s + 1]! << 8)]!;
    const dmin = H[src[s + 2]! | (src[s + 3]! << 8)]!;
    scaleMins(src, s + 4, sc, mn);
    for (let g = 0; g < 4; g++) {
      // Low nibbles of qs[g·32 …] are sub-block 2g, high nibbles 2g + 1.
      const ds0 = fround(d * sc[2 * g]!);
      const dm0 = fround(dmin * mn[2 * g]!);
      const ds1 = fround(d * sc[2 * g + 1]!);
      const dm1 = fround(dmin * mn[2 * g + 1]!);
      const base = o + g * 64;
      const at = s + 16 + g * 32;
      for (let j = 0; j < 32; j++) {
        const q = src[at + j]!;
        out[base + j] = fround(ds0 * (q & 15)) - dm0;
        out[base + 32 + j] = fround(ds1 * (q >> 4)) - dm1;
      }
    }
  }
}

function q5_k(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const sc = new Uint8Array(8);
  const mn = new Uint8Array(8);
  for (let b = 0; b < blocks; b++, s += 176, o += 256) {
    // d · dmin · scales[12] · qh[32] · qs[128]
    const d = H[src[s]! | (src[s + 1]! << 8)]!;
    const dmin = H[src[s + 2]! | (src[s + 3]! << 8)]!;
    scaleMins(src, s + 4, sc, mn);
    for (let g = 0; g < 4; g++) {
      // Sub-blocks 2g (low nibbles, qh bit 2g) and 2g + 1 (high nibbles, qh bit 2g + 1).
      const ds0 = fround(d * sc[2 * g]!);
      const dm0 = fround(dmin * mn[2 * g]!);
      const ds1 = fround(d * sc[2 * g + 1]!);
      const dm1 = fround(dmin * mn[2 * g + 1]!);
      const base = o + g * 64;
      const at = s + 48 + g * 32;
      for (let j = 0; j < 32; j++) {
        const q = src[at + j]!;
        const h = src[s + 16 + j]! >> (2 * g);
        out[base + j] = fround(ds0 * ((q & 15) | ((h & 1) << 4))) - dm0;
        out[base + 32 + j] = fround(ds1 * ((q >> 4) | ((h & 2) << 3))) - dm1;
      }
    }
  }
}

function q6_k(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const ds = new Float32Array(16);
  for (let b = 0; b < blocks; b++, s += 210, o += 256) {
    // ql[128] · qh[64] · scales[16] (int8) · d
    const d = H[src[s + 208]! | (src[s + 209]! << 8)]!;
    for (let k = 0; k < 16; k++) ds[k] = d * ((src[s + 192 + k]! << 24) >> 24);
    // As ggml's dequantize_row_q6_K: per half, ql[l], ql[l + 32] and qh[l] give 4 values.
    for (let g = 0; g < 2; g++) {
      const ql = s + g * 64;
      const qh = s + 128 + g * 32;
      for (let l = 0; l < 32; l++) {
        const a = src[ql + l]!;
        const c = src[ql + 32 + l]!;
        const h = src[qh + l]!;
        const k = g * 8 + (l >> 4);
        const at = o + g * 128 + l;
        out[at] = ds[k]! * (((a & 15) | ((h & 3) << 4)) - 32);
        out[at + 32] = ds[k + 2]! * (((c & 15) | ((h & 12) << 2)) - 32);
        out[at + 64] = ds[k + 4]! * (((a >> 4) | (h & 48)) - 32);
        out[at + 96] = ds[k + 6]! * (((c >> 4) | ((h & 192) >> 2)) - 32);
      }
    }
  }
}

/**
 * TQ1_0's base-3 digits: `TRITS[byte · 8 + p]` is digit p (−1, 0 or 1) of a byte holding
 * five trits as a fraction of 256 (multiply by 3^p mod 256, take the top bits times 3).
 */
const TRITS = (() => {
  const table = new Int8Array(256 * 8);
  for (let byte = 0; byte < 256; byte++) {
    for (let p = 0, pow = 1; p < 5; p++, pow *= 3) table[byte * 8 + p] = ((((byte * pow) & 255) * 3) >> 8) - 1;
  }
  return table;
})();

/** `n` bytes from `at` give `digits` trits each: digit p of byte j goes to `o + p·n + j`. */
function trits(src: Uint8Array, at: number, n: number, digits: number, d: number, out: Float32Array, o: number): void {
  for (let j = 0; j < n; j++) {
    const t = src[at + j]! << 3;
    for (let p = 0; p < digits; p++) out[o + p * n + j] = d * TRITS[t + p]!;
  }
}

function tq1_0(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  for (let b = 0; b < blocks; b++, s += 54, o += 256) {
    // qs[48] · qh[4] · d
    const d = H[src[s + 52]! | (src[s + 53]! << 8)]!;
    trits(src, s, 32, 5, d, out, o);
    trits(src, s + 32, 16, 5, d, out, o + 160);
    trits(src, s + 48, 4, 4, d, out, o + 240);
  }
}

function tq2_0(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  for (let b = 0; b < blocks; b++, s += 66, o += 256) {
    // qs[64] · d
    const d = H[src[s + 64]! | (src[s + 65]! << 8)]!;
    // Value g·128 + shift·32 + j is bits 2·shift of qs[g·32 + j], minus 1.
    for (let g = 0; g < 2; g++) {
      for (let j = 0; j < 32; j++) {
        const q = src[s + g * 32 + j]!;
        const at = o + g * 128 + j;
        out[at] = d * ((q & 3) - 1);
        out[at + 32] = d * (((q >> 2) & 3) - 1);
        out[at + 64] = d * (((q >> 4) & 3) - 1);
        out[at + 96] = d * ((q >> 6) - 1);
      }
    }
  }
}

/** E2M1 values doubled (the scale carries the half). */
const E2M1_DOUBLED = Int8Array.of(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** ggml's `ggml_e8m0_to_fp32_half`: 2^(e−128), subnormal for e < 2. */
function e8m0Half(e: number): number {
  scratchBits[0] = e < 2 ? (0x00200000 << e) >>> 0 : ((e - 1) << 23) >>> 0;
  return scratch[0]!;
}

/**
 * Q8_K (ggml's intermediate type for K-quant dot products): a float32 `d`, 256 int8s and 16
 * int16 block sums that only dot products use. gguf-py 0.19 has no Q8_K; this is ggml's
 * `dequantize_row_q8_K` (`d * qs[j]`, one float32 rounding).
 */
function q8_k(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  for (let b = 0; b < blocks; b++, s += 292, o += 256) {
    scratchBits[0] = (src[s]! | (src[s + 1]! << 8) | (src[s + 2]! << 16) | (src[s + 3]! << 24)) >>> 0;
    const d = scratch[0]!;
    for (let j = 0; j < 256; j++) out[o + j] = d * ((src[s + 4 + j]! << 24) >> 24);
  }
}

function mxfp4(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  for (let b = 0; b < blocks; b++, s += 17, o += 32) {
    const d = e8m0Half(src[s]!);
    for (let j = 0; j < 16; j++) {
      const q = src[s + 1 + j]!;
      out[o + j] = d * E2M1_DOUBLED[q & 15]!;
      out[o + j + 16] = d * E2M1_DOUBLED[q >> 4]!;
    }
  }
}

/** Unsigned E4M3 scale with gguf-py's 0.5 factor, in float32 steps as NumPy computes it. */
function ue4m3Half(x: number): number {
  if (x === 0 || x === 0x7f) return 0;
  const exp = (x >> 3) & 15;
  const man = x & 7;
  const raw = exp === 0 ? fround(man * 2 ** -9) : fround(fround(1 + fround(man / 8)) * fround(2 ** (exp - 7)));
  return fround(raw * 0.5);
}

function nvfp4(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  for (let b = 0; b < blocks; b++, s += 36, o += 64) {
    // 4 scales (one per 16 values) · 4 × 8 bytes: low nibbles the first 8 values, high the next 8
    for (let k = 0; k < 4; k++) {
      const d = ue4m3Half(src[s + k]!);
      for (let j = 0; j < 8; j++) {
        const q = src[s + 4 + k * 8 + j]!;
        out[o + k * 16 + j] = d * E2M1_DOUBLED[q & 15]!;
        out[o + k * 16 + 8 + j] = d * E2M1_DOUBLED[q >> 4]!;
      }
    }
  }
}

/** ggml's `kvalues_iq4nl`. */
const IQ4NL_VALUES = Int8Array.of(-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113);

function iq4_nl(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  for (let b = 0; b < blocks; b++, s += 18, o += 32) {
    const d = H[src[s]! | (src[s + 1]! << 8)]!;
    for (let j = 0; j < 16; j++) {
      const q = src[s + 2 + j]!;
      out[o + j] = d * IQ4NL_VALUES[q & 15]!;
      out[o + j + 16] = d * IQ4NL_VALUES[q >> 4]!;
    }
  }
}

function iq4_xs(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  for (let b = 0; b < blocks; b++, s += 136, o += 256) {
    // d · scales_h (u16) · scales_l[4] · qs[128]
    const d = H[src[s]! | (src[s + 1]! << 8)]!;
    const scalesH = src[s + 2]! | (src[s + 3]! << 8);
    for (let k = 0; k < 8; k++) {
      const low = (src[s + 4 + (k >> 1)]! >> (4 * (k & 1))) & 15;
      const high = (scalesH >> (2 * k)) & 3;
      const dl = fround(d * ((low | (high << 4)) - 32));
      const base = o + k * 32;
      for (let j = 0; j < 16; j++) {
        const q = src[s + 8 + k * 16 + j]!;
        out[base + j] = dl * IQ4NL_VALUES[q & 15]!;
        out[base + j + 16] = dl * IQ4NL_VALUES[q >> 4]!;
      }
    }
  }
}

function f16(src: Uint8Array, s: number, out: Float32Array, o: number, count: number): void {
  const H = halves();
  // An aligned view reads each half in one load (little-endian hosts; ggml data is little-endian).
  if ((src.byteOffset + s) % 2 === 0 && LITTLE_ENDIAN_HOST) {
    const u16 = new Uint16Array(src.buffer, src.byteOffset + s, count);
    for (let i = 0; i < count; i++) out[o + i] = H[u16[i]!]!;
    return;
  }
  for (let i = 0; i < count; i++, s += 2) out[o + i] = H[src[s]! | (src[s + 1]! << 8)]!;
}

function bf16(src: Uint8Array, s: number, out: Float32Array, o: number, count: number): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset + o * 4, count);
  if ((src.byteOffset + s) % 2 === 0 && LITTLE_ENDIAN_HOST) {
    const u16 = new Uint16Array(src.buffer, src.byteOffset + s, count);
    for (let i = 0; i < count; i++) bits[i] = u16[i]! << 16;
    return;
  }
  for (let i = 0; i < count; i++, s += 2) bits[i] = ((src[s]! | (src[s + 1]! << 8)) << 16) >>> 0;
}

/** True on little-endian hosts (typed-array views then read ggml's little-endian data as is). */
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function f32(src: Uint8Array, s: number, out: Float32Array, o: number, count: number): void {
  new Uint8Array(out.buffer, out.byteOffset + o * 4, count * 4).set(src.subarray(s, s + count * 4));
}

/** Decoders by dtype; plain types count elements as blocks of one. */
const DECODERS: Partial<Record<DType, BlockDecoder>> = {
  float32: f32, float16: f16, bfloat16: bf16,
  q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k, q8_k, tq1_0, tq2_0, mxfp4, nvfp4, iq4_nl, iq4_xs,
  iq2_xxs, iq2_xs, iq2_s, iq3_xxs, iq3_s, iq1_s, iq1_m,
};

/** Block geometry of a dtype for dequantization (plain float types: one element of 2 or 4 bytes). */
function geometry(dtype: DType): { elements: number; bytes: number } {
  const block = DTYPE_INFO[dtype].block;
  if (block) return block;
  return { elements: 1, bytes: DTYPE_INFO[dtype].bits / 8 };
}

/** The dtypes {@link ggufDequantize} turns into float32: every type gguf-py 0.19 dequantizes, and Q8_K (which it does not define) as ggml dequantizes it. */
export const GGUF_DEQUANTIZABLE: readonly DType[] = Object.keys(DECODERS) as DType[];

/** True when {@link ggufDequantize} handles this dtype. */
export function ggufCanDequantize(dtype: DType): boolean {
  return DECODERS[dtype] !== undefined;
}

/**
 * float32 values of whole blocks (or plain float16/bfloat16/float32 elements), written
 * into `out` when given (reused across calls: no allocation) or a new array. Equal bit
 * for bit to `gguf.quants.dequantize` on the same bytes. A dtype without a decoder is
 * `UNSUPPORTED_DTYPE` naming it.
 *
 * @example
 * ```ts
 * const values = ggufDequantize('q4_k', (await reader.read('blk.0.ffn_up.weight')).data);
 * ```
 */
export function ggufDequantize(dtype: DType, bytes: Uint8Array, out?: Float32Array): Float32Array {
  const decode = DECODERS[dtype];
  if (!decode) {
    fail('UNSUPPORTED_DTYPE', `gguf: tensio cannot dequantize ${dtype} (it dequantizes ${GGUF_DEQUANTIZABLE.join(', ')})`);
  }
  const { elements, bytes: blockBytes } = geometry(dtype);
  if (bytes.byteLength % blockBytes !== 0) fail('SIZE_MISMATCH', `gguf: ${bytes.byteLength} bytes are not a whole number of ${dtype} blocks of ${blockBytes} bytes`);
  const blocks = bytes.byteLength / blockBytes;
  const count = blocks * elements;
  const target = out ? out.subarray(0, count) : new Float32Array(allocateZeroed(count * 4).buffer, 0, count);
  if (target.length < count) fail('INVALID_ARGUMENT', `gguf: the output holds ${out!.length} values, ${count} are needed`);
  decode!(bytes, 0, target, 0, blocks);
  return target;
}
