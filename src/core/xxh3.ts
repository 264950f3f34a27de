/**
 * XXH3-64 in plain TypeScript, for the browser build (Node uses `@node-rs/xxhash`,
 * which is native and several times faster). Written from the xxHash specification
 * (`doc/xxhash_spec.md`, "XXH3 algorithm"): the short-input paths (0-3, 4-8, 9-16,
 * 17-128, 129-240 bytes) and the long-input loop (64-byte stripes, 16 stripes per
 * block with the default 192-byte secret, a scramble after each block, the last 64
 * bytes as a final stripe, then the merge of the eight accumulators).
 *
 * Every 64-bit quantity is a pair of unsigned 32-bit lanes (`hi`, `lo`): there is no
 * BigInt anywhere on the hashing path (a seed may be given as a bigint, turned into
 * lanes once). The one primitive that needs care is the 32×32→64-bit product:
 * `Math.imul` gives its low word exactly, and the double product `a * b` is within
 * 2^11 of the true value, so `(a * b − low) / 2^32` rounds to the high word exactly.
 *
 * Imports nothing (core layer, browser-safe).
 */

// The default secret (the spec's `kSecret`), 192 bytes.
const DEFAULT_SECRET = new Uint8Array([
  0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
  0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
  0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
  0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
  0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
  0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
  0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
  0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
  0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
  0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
  0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
  0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
]);

const SECRET_SIZE = 192;
const STRIPE = 64;
/** Stripes per block: (secret size − stripe length) / 8 bytes of secret consumed per stripe. */
const STRIPES_PER_BLOCK = (SECRET_SIZE - STRIPE) / 8;
const MIDSIZE_MAX = 240;
/** Where the last stripe's secret starts: secret size − stripe − 7. */
const LAST_STRIPE_SECRET = SECRET_SIZE - STRIPE - 7;
/** Where the accumulator merge's secret starts. */
const MERGE_SECRET = 11;
const TWO32 = 4294967296;

// The primes, as 32-bit lanes.
const P32_1 = 0x9e3779b1;
const P32_2 = 0x85ebca77;
const P32_3 = 0xc2b2ae3d;
const P64_1_HI = 0x9e3779b1, P64_1_LO = 0x85ebca87;
const P64_2_HI = 0xc2b2ae3d, P64_2_LO = 0x27d4eb4f;
const P64_3_HI = 0x165667b1, P64_3_LO = 0x9e3779f9;
const P64_4_HI = 0x85ebca77, P64_4_LO = 0xc2b2ae63;
const P64_5_HI = 0x27d4eb2f, P64_5_LO = 0x165667c5;
const MX1_HI = 0x16566791, MX1_LO = 0x9e3779f9;
const MX2_HI = 0x9fb21c65, MX2_LO = 0x1e98df25;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// Results of the 64-bit helpers below (two lanes), so that no helper allocates.
let rHi = 0;
let rLo = 0;

/** Unsigned 32×32 → 64-bit product into (rHi, rLo). */
function mul32(a: number, b: number): void {
  const lo = Math.imul(a, b) >>> 0;
  rHi = Math.round(((a >>> 0) * (b >>> 0) - lo) / TWO32);
  rLo = lo;
}

/** (aHi:aLo) + (bHi:bLo) mod 2^64. */
function add64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const lo = (aLo >>> 0) + (bLo >>> 0);
  rLo = lo >>> 0;
  rHi = (aHi + bHi + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** (aHi:aLo) − (bHi:bLo) mod 2^64. */
function sub64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  const lo = (aLo >>> 0) - (bLo >>> 0);
  rLo = lo >>> 0;
  rHi = (aHi - bHi - (lo < 0 ? 1 : 0)) >>> 0;
}

/** (aHi:aLo) × (bHi:bLo) mod 2^64. */
function mul64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  mul32(aLo, bLo);
  rHi = (rHi + Math.imul(aLo, bHi) + Math.imul(aHi, bLo)) >>> 0;
}

/** The full 128-bit product of two 64-bit values with its halves XORed (the spec's "mul128_fold64"). */
function mulFold64(aHi: number, aLo: number, bHi: number, bLo: number): void {
  mul32(aLo, bLo); const llHi = rHi, llLo = rLo;
  mul32(aLo, bHi); const lhHi = rHi, lhLo = rLo;
  mul32(aHi, bLo); const hlHi = rHi, hlLo = rLo;
  mul32(aHi, bHi); const hhHi = rHi, hhLo = rLo;
  // The product's 32-bit words, least significant first, are llLo, w1, w2, w3.
  const cross1 = llHi + lhLo + hlLo;
  const w1 = cross1 >>> 0;
  const cross2 = hhLo + lhHi + hlHi + Math.floor(cross1 / TWO32);
  const w2 = cross2 >>> 0;
  const w3 = (hhHi + Math.floor(cross2 / TWO32)) >>> 0;
  rHi = (w1 ^ w3) >>> 0;
  rLo = (llLo ^ w2) >>> 0;
}

/** XXH3's final mix (the spec's "avalanche"): h ^= h >> 37; h *= MX1; h ^= h >> 32. */
function avalanche(hHi: number, hLo: number): void {
  mul64(hHi, (hLo ^ (hHi >>> 5)) >>> 0, MX1_HI, MX1_LO);
  rLo = (rLo ^ rHi) >>> 0;
}

/** XXH64's final mix, used by the 0-3 byte paths: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32. */
function avalancheXxh64(hHi: number, hLo: number): void {
  mul64(hHi, (hLo ^ (hHi >>> 1)) >>> 0, P64_2_HI, P64_2_LO);
  const lo = (rLo ^ ((rLo >>> 29) | (rHi << 3))) >>> 0;
  const hi = (rHi ^ (rHi >>> 29)) >>> 0;
  mul64(hi, lo, P64_3_HI, P64_3_LO);
  rLo = (rLo ^ rHi) >>> 0;
}

/** The 4-8 byte path's mix (the spec's "rrmxmx"). */
function rrmxmx(hHi: number, hLo: number, length: number): void {
  // h ^= rotl(h, 49) ^ rotl(h, 24)
  const r49Hi = (hLo << 17) | (hHi >>> 15), r49Lo = (hHi << 17) | (hLo >>> 15);
  const r24Hi = (hHi << 24) | (hLo >>> 8), r24Lo = (hLo << 24) | (hHi >>> 8);
  mul64((hHi ^ r49Hi ^ r24Hi) >>> 0, (hLo ^ r49Lo ^ r24Lo) >>> 0, MX2_HI, MX2_LO);
  // h ^= (h >> 35) + length (h >> 35 < 2^29, so the sum stays in the low word)
  mul64(rHi, (rLo ^ ((rHi >>> 3) + length)) >>> 0, MX2_HI, MX2_LO);
  // h ^= h >> 28
  const lo = (rLo ^ ((rLo >>> 28) | (rHi << 4))) >>> 0;
  rHi = (rHi ^ (rHi >>> 28)) >>> 0;
  rLo = lo;
}

/** The 32-bit little-endian word of `bytes` at `offset`. */
function read32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

function swap32(x: number): number {
  return (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;
}

/**
 * The spec's "mix16B": 16 input bytes against 16 secret bytes and the seed, folded
 * to 64 bits, into (rHi, rLo).
 */
function mix16(input: Uint8Array, at: number, secret: Uint8Array, secretAt: number, seedHi: number, seedLo: number): void {
  add64(read32(secret, secretAt + 4), read32(secret, secretAt), seedHi, seedLo);
  const aHi = (read32(input, at + 4) ^ rHi) >>> 0, aLo = (read32(input, at) ^ rLo) >>> 0;
  sub64(read32(secret, secretAt + 12), read32(secret, secretAt + 8), seedHi, seedLo);
  const bHi = (read32(input, at + 12) ^ rHi) >>> 0, bLo = (read32(input, at + 8) ^ rLo) >>> 0;
  mulFold64(aHi, aLo, bHi, bLo);
}

/** XXH3-64 of at most 240 bytes (`input[at, at + length)`), into (rHi, rLo). */
function hashShort(input: Uint8Array, at: number, length: number, seedHi: number, seedLo: number): void {
  const s = DEFAULT_SECRET;
  if (length === 0) {
    avalancheXxh64((read32(s, 60) ^ read32(s, 68) ^ seedHi) >>> 0, (read32(s, 56) ^ read32(s, 64) ^ seedLo) >>> 0);
    return;
  }
  if (length <= 3) {
    const combined = ((input[at]! << 16) | (input[at + (length >>> 1)]! << 24) | input[at + length - 1]! | (length << 8)) >>> 0;
    add64(0, (read32(s, 0) ^ read32(s, 4)) >>> 0, seedHi, seedLo);
    avalancheXxh64(rHi, (rLo ^ combined) >>> 0);
    return;
  }
  if (length <= 8) {
    const seedHiMixed = (seedHi ^ swap32(seedLo)) >>> 0;
    sub64((read32(s, 12) ^ read32(s, 20)) >>> 0, (read32(s, 8) ^ read32(s, 16)) >>> 0, seedHiMixed, seedLo);
    rrmxmx((read32(input, at) ^ rHi) >>> 0, (read32(input, at + length - 4) ^ rLo) >>> 0, length);
    return;
  }
  if (length <= 16) {
    add64((read32(s, 28) ^ read32(s, 36)) >>> 0, (read32(s, 24) ^ read32(s, 32)) >>> 0, seedHi, seedLo);
    const loHi = (read32(input, at + 4) ^ rHi) >>> 0, loLo = (read32(input, at) ^ rLo) >>> 0;
    sub64((read32(s, 44) ^ read32(s, 52)) >>> 0, (read32(s, 40) ^ read32(s, 48)) >>> 0, seedHi, seedLo);
    const hiHi = (read32(input, at + length - 4) ^ rHi) >>> 0, hiLo = (read32(input, at + length - 8) ^ rLo) >>> 0;
    // acc = length + swap64(lo) + hi + mul128_fold64(lo, hi)
    mulFold64(loHi, loLo, hiHi, hiLo);
    const foldHi = rHi, foldLo = rLo;
    add64(swap32(loLo), swap32(loHi), 0, length);
    add64(rHi, rLo, hiHi, hiLo);
    add64(rHi, rLo, foldHi, foldLo);
    avalanche(rHi, rLo);
    return;
  }
  mul64(0, length, P64_1_HI, P64_1_LO);
  let accHi = rHi, accLo = rLo;
  const addMix = (inputAt: number, secretAt: number): void => {
    mix16(input, at + inputAt, s, secretAt, seedHi, seedLo);
    add64(accHi, accLo, rHi, rLo);
    accHi = rHi; accLo = rLo;
  };
  if (length <= 128) {
    if (length > 32) {
      if (length > 64) {
        if (length > 96) { addMix(48, 96); addMix(length - 64, 112); }
        addMix(32, 64); addMix(length - 48, 80);
      }
      addMix(16, 32); addMix(length - 32, 48);
    }
    addMix(0, 0); addMix(length - 16, 16);
    avalanche(accHi, accLo);
    return;
  }
  // 129-240 bytes: eight 16-byte rounds, an avalanche, then the rest at secret offset 3 and the last 16 bytes.
  for (let i = 0; i < 8; i++) addMix(16 * i, 16 * i);
  avalanche(accHi, accLo);
  accHi = rHi; accLo = rLo;
  const rounds = length >>> 4;
  for (let i = 8; i < rounds; i++) addMix(16 * i, 16 * (i - 8) + 3);
  addMix(length - 16, 136 - 17);
  avalanche(accHi, accLo);
}

/** The secret words (little-endian u32) the long loop reads: the secret itself, and the last stripe's key at byte 121. */
interface LongSecret {
  bytes: Uint8Array;
  words: Uint32Array;
  lastStripeWords: Uint32Array;
}

function longSecretOf(bytes: Uint8Array): LongSecret {
  const words = new Uint32Array(SECRET_SIZE / 4);
  for (let i = 0; i < words.length; i++) words[i] = read32(bytes, 4 * i);
  const lastStripeWords = new Uint32Array(16);
  for (let i = 0; i < 16; i++) lastStripeWords[i] = read32(bytes, LAST_STRIPE_SECRET + 4 * i);
  return { bytes, words, lastStripeWords };
}

const DEFAULT_LONG_SECRET = longSecretOf(DEFAULT_SECRET);

/** The secret a non-zero seed derives for long inputs: each 16-byte pair (lo + seed, hi − seed). */
function seededSecret(seedHi: number, seedLo: number): LongSecret {
  const bytes = new Uint8Array(SECRET_SIZE);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < SECRET_SIZE / 16; i++) {
    add64(read32(DEFAULT_SECRET, 16 * i + 4), read32(DEFAULT_SECRET, 16 * i), seedHi, seedLo);
    view.setUint32(16 * i, rLo, true); view.setUint32(16 * i + 4, rHi, true);
    sub64(read32(DEFAULT_SECRET, 16 * i + 12), read32(DEFAULT_SECRET, 16 * i + 8), seedHi, seedLo);
    view.setUint32(16 * i + 8, rLo, true); view.setUint32(16 * i + 12, rHi, true);
  }
  return longSecretOf(bytes);
}

/**
 * One 64-byte stripe (`words[w, w + 16)`, little-endian u32) into the eight
 * accumulators (`acc[2i]` low, `acc[2i+1]` high) against `key[k, k + 16)`.
 * This is the hot loop: 32-bit lanes only.
 */
function accumulateStripe(acc: Uint32Array, words: Uint32Array, w: number, key: Uint32Array, k: number): void {
  for (let lane = 0; lane < 8; lane++) {
    const dLo = words[w + 2 * lane]!, dHi = words[w + 2 * lane + 1]!;
    const kLo = (dLo ^ key[k + 2 * lane]!) >>> 0, kHi = (dHi ^ key[k + 2 * lane + 1]!) >>> 0;
    // acc[lane ^ 1] += data
    const other = 2 * (lane ^ 1);
    const sum = acc[other]! + dLo;
    acc[other] = sum;
    acc[other + 1] = acc[other + 1]! + dHi + (sum > 0xffffffff ? 1 : 0);
    // acc[lane] += low32(key) * high32(key)
    const productLo = Math.imul(kLo, kHi) >>> 0;
    const productHi = Math.round((kLo * kHi - productLo) / TWO32);
    const sum2 = acc[2 * lane]! + productLo;
    acc[2 * lane] = sum2;
    acc[2 * lane + 1] = acc[2 * lane + 1]! + productHi + (sum2 > 0xffffffff ? 1 : 0);
  }
}

/** The scramble after each block: acc ^= acc >> 47; acc ^= key; acc *= PRIME32_1. */
function scramble(acc: Uint32Array, key: Uint32Array): void {
  const k = (SECRET_SIZE - STRIPE) / 4;
  for (let lane = 0; lane < 8; lane++) {
    const hi = (acc[2 * lane + 1]! ^ key[k + 2 * lane + 1]!) >>> 0;
    const lo = (acc[2 * lane]! ^ (acc[2 * lane + 1]! >>> 15) ^ key[k + 2 * lane]!) >>> 0;
    mul32(lo, P32_1);
    acc[2 * lane] = rLo;
    acc[2 * lane + 1] = rHi + Math.imul(hi, P32_1);
  }
}

const INITIAL_ACC = [P32_3, 0, P64_1_LO, P64_1_HI, P64_2_LO, P64_2_HI, P64_3_LO, P64_3_HI, P64_4_LO, P64_4_HI, P32_2, 0, P64_5_LO, P64_5_HI, P32_1, 0];
/** Bytes buffered between updates: whole short inputs (≤ 240) and the stripes not yet known to have a successor. */
const BUFFER_SIZE = 256;
/** Unaligned input is copied through a scratch block of this many stripes. */
const SCRATCH_STRIPES = 64;

/**
 * A streaming XXH3-64 hasher: feed bytes in any chunk sizes, read the digest at any
 * point (reading does not end the stream). Equal to `xxhash.xxh3_64` for every seed.
 *
 * @example
 * ```ts
 * const hasher = new Xxh3Hasher();
 * hasher.update(new Uint8Array([1, 2])).update(new Uint8Array([3]));
 * hasher.digestHex(); // 16 lowercase hex digits
 * ```
 */
export class Xxh3Hasher {
  private readonly seedHi: number;
  private readonly seedLo: number;
  private readonly secret: LongSecret;
  private readonly acc = Uint32Array.from(INITIAL_ACC);
  private stripeInBlock = 0;
  private total = 0;
  private readonly buffer = new Uint8Array(BUFFER_SIZE);
  private buffered = 0;
  /** The last 64 bytes already consumed as stripes (the final stripe may reach back into them). */
  private readonly consumedTail = new Uint8Array(STRIPE);
  private scratch: Uint8Array | undefined;

  /** @param seed a 64-bit seed (0 by default, what zTensor uses); a number must be a safe non-negative integer. */
  constructor(seed: bigint | number = 0) {
    const value = BigInt.asUintN(64, BigInt(seed));
    this.seedHi = Number(value >> 32n);
    this.seedLo = Number(value & 0xffffffffn);
    this.secret = value === 0n ? DEFAULT_LONG_SECRET : seededSecret(this.seedHi, this.seedLo);
  }

  /** Adds bytes to the stream. */
  update(bytes: Uint8Array): this {
    const length = bytes.length;
    this.total += length;
    if (this.buffered + length <= BUFFER_SIZE) {
      this.buffer.set(bytes, this.buffered);
      this.buffered += length;
      return this;
    }
    let at = 0;
    if (this.buffered > 0) {
      // Fill the buffer and consume it whole: more bytes follow it.
      at = BUFFER_SIZE - this.buffered;
      this.buffer.set(bytes.subarray(0, at), this.buffered);
      this.consume(this.acc, this.buffer, 0, BUFFER_SIZE / STRIPE);
      this.consumedTail.set(this.buffer.subarray(BUFFER_SIZE - STRIPE));
      this.buffered = 0;
    }
    // Consume every stripe that has at least one byte after it; keep the rest (1-64 bytes).
    const stripes = Math.floor((length - at - 1) / STRIPE);
    if (stripes > 0) {
      this.consume(this.acc, bytes, at, stripes);
      at += stripes * STRIPE;
      this.consumedTail.set(bytes.subarray(at - STRIPE, at));
    }
    this.buffer.set(bytes.subarray(at));
    this.buffered = length - at;
    return this;
  }

  /** The digest of everything added so far, as an unsigned 64-bit bigint. */
  digest(): bigint {
    this.finish();
    return (BigInt(rHi) << 32n) | BigInt(rLo);
  }

  /** The digest as 16 lowercase hex digits. */
  digestHex(): string {
    this.finish();
    return rHi.toString(16).padStart(8, '0') + rLo.toString(16).padStart(8, '0');
  }

  private finish(): void {
    if (this.total <= MIDSIZE_MAX) {
      hashShort(this.buffer, 0, this.total, this.seedHi, this.seedLo);
      return;
    }
    // Finish on copies so that the stream can go on.
    const acc = this.acc.slice();
    const stripeInBlock = this.stripeInBlock;
    this.consume(acc, this.buffer, 0, Math.floor((this.buffered - 1) / STRIPE));
    this.stripeInBlock = stripeInBlock;
    let last: Uint8Array;
    if (this.buffered >= STRIPE) {
      last = this.buffer.slice(this.buffered - STRIPE, this.buffered);
    } else {
      last = new Uint8Array(STRIPE);
      last.set(this.consumedTail.subarray(this.buffered));
      last.set(this.buffer.subarray(0, this.buffered), STRIPE - this.buffered);
    }
    accumulateStripe(acc, wordsOf(last), 0, this.secret.lastStripeWords, 0);
    mergeAccumulators(acc, this.secret.bytes, this.total);
  }

  /** Consumes `stripes` whole stripes of `bytes` from `at`, scrambling after each block. */
  private consume(acc: Uint32Array, bytes: Uint8Array, at: number, stripes: number): void {
    const key = this.secret.words;
    while (stripes > 0) {
      let words: Uint32Array;
      let count: number;
      if (LITTLE_ENDIAN && ((bytes.byteOffset + at) & 3) === 0) {
        count = stripes;
        words = new Uint32Array(bytes.buffer, bytes.byteOffset + at, count * (STRIPE / 4));
      } else {
        count = Math.min(stripes, SCRATCH_STRIPES);
        this.scratch ??= new Uint8Array(SCRATCH_STRIPES * STRIPE);
        this.scratch.set(bytes.subarray(at, at + count * STRIPE));
        words = wordsOf(this.scratch);
      }
      for (let s = 0; s < count; s++) {
        accumulateStripe(acc, words, s * (STRIPE / 4), key, this.stripeInBlock * 2);
        if (++this.stripeInBlock === STRIPES_PER_BLOCK) {
          scramble(acc, key);
          this.stripeInBlock = 0;
        }
      }
      at += count * STRIPE;
      stripes -= count;
    }
  }
}

/** Little-endian u32 words of a buffer whose length is a multiple of 4 (a view where the host allows). */
function wordsOf(bytes: Uint8Array): Uint32Array {
  if (LITTLE_ENDIAN && (bytes.byteOffset & 3) === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >>> 2);
  const words = new Uint32Array(bytes.length >>> 2);
  for (let i = 0; i < words.length; i++) words[i] = read32(bytes, 4 * i);
  return words;
}

/** The long path's end: length × PRIME64_1 plus four folded accumulator pairs, avalanched, into (rHi, rLo). */
function mergeAccumulators(acc: Uint32Array, secret: Uint8Array, total: number): void {
  mul64(Math.floor(total / TWO32), total >>> 0, P64_1_HI, P64_1_LO);
  let hi = rHi, lo = rLo;
  for (let i = 0; i < 4; i++) {
    const at = MERGE_SECRET + 16 * i;
    mulFold64(
      (acc[4 * i + 1]! ^ read32(secret, at + 4)) >>> 0, (acc[4 * i]! ^ read32(secret, at)) >>> 0,
      (acc[4 * i + 3]! ^ read32(secret, at + 12)) >>> 0, (acc[4 * i + 2]! ^ read32(secret, at + 8)) >>> 0,
    );
    add64(hi, lo, rHi, rLo);
    hi = rHi; lo = rLo;
  }
  avalanche(hi, lo);
}

/**
 * XXH3-64 of some bytes in one call, as an unsigned 64-bit bigint.
 *
 * @example
 * ```ts
 * xxh3Hash64(new Uint8Array(0)).toString(16); // '2d06800538d394c2'
 * ```
 */
export function xxh3Hash64(bytes: Uint8Array, seed: bigint | number = 0): bigint {
  return new Xxh3Hasher(seed).update(bytes).digest();
}
