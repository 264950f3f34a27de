/**
 * The mutation fuzzer's generator and mutations, shared by the quick fuzz test
 * (`test/fuzz-formats.test.ts`, 300 mutants per format) and the long-run mode
 * (`npm run fuzz`, `test/fuzz/run.ts`).
 */

/** Small deterministic generator (mulberry32) so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The generator of mutant `index` of a run: every mutant regenerates alone from (run seed, index). */
export function mutantRandom(runSeed: number, index: number): () => number {
  return seededRandom(Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35));
}

/**
 * One mutation of `bytes`: random byte flips, a truncation, an extreme u32 (the classic
 * length attack) or random bytes appended. With `stacked`, up to three of them in a row.
 *
 * @example
 * ```ts
 * const mutant = mutate(pristine, seededRandom(42));
 * ```
 */
export function mutate(bytes: Uint8Array, random: () => number, stacked = false): Uint8Array {
  let out = mutateOnce(bytes, random);
  if (stacked) for (let extra = Math.floor(random() * 3); extra > 0 && out.length > 0; extra--) out = mutateOnce(out, random);
  return out;
}

function mutateOnce(bytes: Uint8Array, random: () => number): Uint8Array {
  const out = bytes.slice();
  if (out.length === 0) return out;
  const kind = Math.floor(random() * 4);
  if (kind === 0) {
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    return out;
  }
  if (kind === 1) return out.subarray(0, Math.floor(random() * out.length));
  if (kind === 2) {
    if (out.length < 4) return out;
    const at = Math.floor(random() * (out.length - 3));
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    const extremes = [0xffffffff, 0x7fffffff, 0x80000000, 0];
    view.setUint32(at, extremes[Math.floor(random() * extremes.length)]!, true);
    return out;
  }
  const extra = new Uint8Array(1 + Math.floor(random() * 16)).map(() => Math.floor(random() * 256));
  const joined = new Uint8Array(out.length + extra.length);
  joined.set(out);
  joined.set(extra, out.length);
  return joined;
}
