/**
 * Dequantizers of ggml's grid-based IQ types (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S,
 * IQ3_XXS, IQ3_S), bit for bit as gguf-py 0.19's `gguf.quants` computes them: each group
 * of 4 or 8 values is a row of a fixed grid (`iq-grids.ts`, copied from gguf-py), times a
 * float32 scale rounded step by step as NumPy rounds it, with signs from a bit mask (IQ2,
 * IQ3) or a ±1/8 shift (IQ1). A sign flip and the final `Float32Array` store are exact
 * and the last rounding, so `±(db × grid)` stored equals NumPy's `db * grid * signs`.
 *
 * Block layouts are ggml's (`ggml-common.h`); element order is the one gguf-py's reshapes give.
 */
import { halves } from './half-table.js';
import { IQ1_S_GRID, IQ2_KSIGNS, IQ2_S_GRID, IQ2_XS_GRID, IQ2_XXS_GRID, IQ3_S_GRID, IQ3_XXS_GRID, type PackedIqGrid } from './iq-grids.js';

const fround = Math.fround;

/**
 * A packed grid as float32 values, row after row, unpacked the way gguf-py's `init_grid`
 * does it: two hex digits a byte, each byte holding `8 / bits` indices into `map`, low bits first.
 */
export function unpackIqGrid(grid: PackedIqGrid): Float32Array {
  const bits = Math.ceil(Math.log2(grid.map.length));
  const perByte = Math.floor(8 / bits);
  const step = 8 / perByte;
  const mask = (1 << bits) - 1;
  const values = new Float32Array(grid.rows * grid.columns);
  if (grid.hex.length !== (values.length / perByte) * 2) throw new Error(`iq grid: ${grid.hex.length} hex digits for ${values.length} values`);
  for (let k = 0; k < values.length; k++) {
    const at = 2 * Math.floor(k / perByte);
    const byte = parseInt(grid.hex.slice(at, at + 2), 16);
    values[k] = grid.map[(byte >> ((k % perByte) * step)) & mask]!;
  }
  return values;
}

const unpacked = new Map<PackedIqGrid, Float32Array>();
/** The unpacked grid, built on first use. */
function grid(packed: PackedIqGrid): Float32Array {
  let values = unpacked.get(packed);
  if (!values) unpacked.set(packed, (values = unpackIqGrid(packed)));
  return values;
}

const KSIGNS = Uint8Array.from(IQ2_KSIGNS);

/** Little-endian u32 at `at`. */
const u32 = (src: Uint8Array, at: number): number => (src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24)) >>> 0;
/** Little-endian u16 at `at`. */
const u16 = (src: Uint8Array, at: number): number => src[at]! | (src[at + 1]! << 8);

/** Eight values `db × grid[g…g+8]`, negated where `signs` has a bit set. */
function put8(out: Float32Array, o: number, db: number, G: Float32Array, g: number, signs: number): void {
  for (let j = 0; j < 8; j++) {
    const v = db * G[g + j]!;
    out[o + j] = (signs >> j) & 1 ? -v : v;
  }
}

/** IQ2_XXS: d · 8 × (4 grid indices (u8), u32 of 4 × 7 sign bits and a 4-bit scale). */
export function iq2_xxs(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const G = grid(IQ2_XXS_GRID);
  for (let b = 0; b < blocks; b++, s += 66, o += 256) {
    const d = H[u16(src, s)]!;
    for (let g = 0; g < 8; g++) {
      const q = s + 2 + 8 * g;
      const aux = u32(src, q + 4);
      const db = fround(fround(d * (0.5 + (aux >>> 28))) * 0.25);
      for (let l = 0; l < 4; l++) put8(out, o + 32 * g + 8 * l, db, G, src[q + l]! * 8, KSIGNS[(aux >>> (7 * l)) & 127]!);
    }
  }
}

/** IQ2_XS: d · 32 × u16 (9-bit grid index, 7 sign bits) · 16 four-bit scales. */
export function iq2_xs(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const G = grid(IQ2_XS_GRID);
  for (let b = 0; b < blocks; b++, s += 74, o += 256) {
    const d = H[u16(src, s)]!;
    for (let k = 0; k < 16; k++) {
      const sc = (src[s + 66 + (k >> 1)]! >> (4 * (k & 1))) & 15;
      const db = fround(fround(d * (0.5 + sc)) * 0.25);
      for (let m = 0; m < 2; m++) {
        const q = u16(src, s + 2 + 2 * (2 * k + m));
        put8(out, o + 16 * k + 8 * m, db, G, (q & 511) * 8, KSIGNS[q >> 9]!);
      }
    }
  }
}

/** IQ2_S: d · 32 grid indices (low 8 bits) · 32 sign bytes · 8 bytes of 2-bit index highs · 16 four-bit scales. */
export function iq2_s(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const G = grid(IQ2_S_GRID);
  for (let b = 0; b < blocks; b++, s += 82, o += 256) {
    const d = H[u16(src, s)]!;
    for (let k = 0; k < 16; k++) {
      const sc = (src[s + 74 + (k >> 1)]! >> (4 * (k & 1))) & 15;
      const db = fround(fround(d * (0.5 + sc)) * 0.25);
      for (let m = 0; m < 2; m++) {
        const i = 2 * k + m;
        const index = src[s + 2 + i]! | (((src[s + 66 + (i >> 2)]! >> (2 * (i & 3))) & 3) << 8);
        put8(out, o + 8 * i, db, G, index * 8, src[s + 34 + i]!);
      }
    }
  }
}

/** IQ3_XXS: d · 64 grid indices (rows of 4) · 8 × u32 of 4 × 7 sign bits and a 4-bit scale. */
export function iq3_xxs(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const G = grid(IQ3_XXS_GRID);
  for (let b = 0; b < blocks; b++, s += 98, o += 256) {
    const d = H[u16(src, s)]!;
    for (let g = 0; g < 8; g++) {
      const aux = u32(src, s + 66 + 4 * g);
      const db = fround(fround(d * (0.5 + (aux >>> 28))) * 0.5);
      for (let l = 0; l < 4; l++) {
        const signs = KSIGNS[(aux >>> (7 * l)) & 127]!;
        const q = s + 2 + 8 * g + 2 * l;
        const base = o + 32 * g + 8 * l;
        for (let j = 0; j < 8; j++) {
          const v = db * G[src[q + (j >> 2)]! * 4 + (j & 3)]!;
          out[base + j] = (signs >> j) & 1 ? -v : v;
        }
      }
    }
  }
}

/** IQ3_S: d · 64 grid indices (low 8 bits, rows of 4) · 8 bytes of index high bits · 32 sign bytes · 8 four-bit scales. */
export function iq3_s(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const G = grid(IQ3_S_GRID);
  for (let b = 0; b < blocks; b++, s += 110, o += 256) {
    const d = H[u16(src, s)]!;
    for (let g = 0; g < 8; g++) {
      const sc = (src[s + 106 + (g >> 1)]! >> (4 * (g & 1))) & 15;
      const db = fround(d * (1 + 2 * sc));
      for (let l = 0; l < 4; l++) {
        const signs = src[s + 74 + 4 * g + l]!;
        const base = o + 32 * g + 8 * l;
        for (let j = 0; j < 8; j++) {
          const i = 8 * g + 2 * l + (j >> 2);
          const index = src[s + 2 + i]! | (((src[s + 66 + (i >> 3)]! >> (i & 7)) & 1) << 8);
          const v = db * G[index * 4 + (j & 3)]!;
          out[base + j] = (signs >> j) & 1 ? -v : v;
        }
      }
    }
  }
}

/** IQ1_S: d · 32 grid indices (low 8 bits) · 8 × u16 (4 × 3 index high bits, 3-bit scale, delta sign). */
export function iq1_s(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const G = grid(IQ1_S_GRID);
  for (let b = 0; b < blocks; b++, s += 50, o += 256) {
    const d = H[u16(src, s)]!;
    for (let g = 0; g < 8; g++) {
      const qh = u16(src, s + 34 + 2 * g);
      const dl = fround(d * (2 * ((qh >> 12) & 7) + 1));
      const delta = qh & 0x8000 ? -0.125 : 0.125;
      for (let l = 0; l < 4; l++) {
        const row = (src[s + 2 + 4 * g + l]! | (((qh >> (3 * l)) & 7) << 8)) * 8;
        const base = o + 32 * g + 8 * l;
        // grid + delta is exact in float32 (±1, 0 plus ±1/8): one rounding, at the store.
        for (let j = 0; j < 8; j++) out[base + j] = dl * (G[row + j]! + delta);
      }
    }
  }
}

/** IQ1_M: 32 grid indices (low 8 bits) · 16 bytes of (3 index high bits, delta sign) nibbles · 4 × u16 of 3-bit scales, the float16 d in their top nibbles. */
export function iq1_m(src: Uint8Array, s: number, out: Float32Array, o: number, blocks: number): void {
  const H = halves();
  const G = grid(IQ1_S_GRID);
  for (let b = 0; b < blocks; b++, s += 56, o += 256) {
    const s0 = u16(src, s + 48);
    const s1 = u16(src, s + 50);
    const s2 = u16(src, s + 52);
    const s3 = u16(src, s + 54);
    const d = H[(s0 >> 12) | ((s1 >> 8) & 0xf0) | ((s2 >> 4) & 0xf00) | (s3 & 0xf000)]!;
    const scales = [s0, s1, s2, s3];
    for (let t = 0; t < 16; t++) {
      const dl = fround(d * (2 * ((scales[t >> 2]! >> (3 * (t & 3))) & 7) + 1));
      for (let m = 0; m < 2; m++) {
        const i = 2 * t + m;
        const nibble = (src[s + 32 + (i >> 1)]! >> (4 * (i & 1))) & 15;
        const row = (src[s + i]! | ((nibble & 7) << 8)) * 8;
        const delta = nibble & 8 ? -0.125 : 0.125;
        const base = o + 8 * i;
        for (let j = 0; j < 8; j++) out[base + j] = dl * (G[row + j]! + delta);
      }
    }
  }
}
