/**
 * The "touch every byte" kernels of the mmap bench: sum a byte range as float64 words,
 * the same reduction `bench/lib/peers.py` runs with numpy (`np.add.reduce` over a
 * float64 view, which numpy vectorises with SIMD and pairwise blocks of 8 accumulators).
 *
 * Three ways in JavaScript, measured side by side by the bench's kernel table:
 * - {@link sumFloat64Scalar}: one accumulator. Every add waits for the previous one
 *   (floating-point add latency), so it runs at about half the speed memory allows.
 * - {@link sumFloat64Unrolled}: four independent accumulators over a `Float64Array`
 *   (float64 accumulation, as numpy's pairwise sum, minus the SIMD). The fastest here,
 *   and the kernel every JS "+ sum" contender uses, tensio's and raw reads' alike.
 * - {@link sumFloat64Unrolled8}: the same with eight accumulators, the "+ sum" kernel
 *   until session 27. On the same buffers, interleaved, four ran faster in the runs the
 *   machine left alone (hot 256 MiB: 11.3 against 14.8 ms, load ~1.5; best of 15 over a
 *   mapping, a heap buffer and a reused 8 MiB buffer: 10.0-10.7 against 12.2-15.0 ms at
 *   load ~7, medians within 10 %): V8 compiles neither to SIMD, and the longer body
 *   gains no latency hiding the four do not already give. Kept for the kernel table.
 * - {@link sumFloat64Wasm}: a hand-written WebAssembly SIMD module (f64x2 adds, four
 *   vector accumulators). WebAssembly can only read its own memory, and a mapped (or any
 *   Node) buffer is not it, so every 256 KiB block is first copied in (kept hot in the
 *   L2 cache): the copy costs more than SIMD saves.
 * - {@link wasmSumInPlace}: the same kernel with eight vector accumulators over a memory
 *   given to it, for bytes already in that memory: tensors placed there by tensio's
 *   `readIntoWasmMemory` (the file's pages mapped into the memory, no copy).
 *
 * Sums of bytes that are not floats may be NaN or infinite: only the time matters.
 */

/** Float64 words of `bytes` (a misaligned start is skipped to the next word; a tail of under 8 bytes is ignored). */
function float64Words(bytes: Uint8Array): Float64Array {
  const skip = (8 - (bytes.byteOffset % 8)) % 8;
  const words = Math.floor(Math.max(0, bytes.byteLength - skip) / 8);
  return new Float64Array(bytes.buffer, bytes.byteOffset + skip, words);
}

/**
 * Sums the float64 words of `bytes` with one accumulator.
 *
 * @example
 * ```ts
 * sumFloat64Scalar(new Uint8Array(new Float64Array([1, 2]).buffer)); // 3
 * ```
 */
export function sumFloat64Scalar(bytes: Uint8Array): number {
  const view = float64Words(bytes);
  let total = 0;
  for (let i = 0; i < view.length; i++) total += view[i]!;
  return total;
}

/**
 * Sums the float64 words of `bytes` with four independent accumulators.
 *
 * @example
 * ```ts
 * sumFloat64Unrolled(new Uint8Array(new Float64Array([1, 2, 3]).buffer)); // 6
 * ```
 */
export function sumFloat64Unrolled(bytes: Uint8Array): number {
  const view = float64Words(bytes);
  let a = 0, b = 0, c = 0, d = 0;
  const blocked = view.length - (view.length % 4);
  let i = 0;
  for (; i < blocked; i += 4) {
    a += view[i]!;
    b += view[i + 1]!;
    c += view[i + 2]!;
    d += view[i + 3]!;
  }
  for (; i < view.length; i++) a += view[i]!;
  return (a + b) + (c + d);
}

/**
 * Sums the float64 words of `bytes` with eight independent accumulators.
 *
 * @example
 * ```ts
 * sumFloat64Unrolled8(new Uint8Array(new Float64Array([1, 2, 3]).buffer)); // 6
 * ```
 */
export function sumFloat64Unrolled8(bytes: Uint8Array): number {
  const view = float64Words(bytes);
  let a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0;
  const blocked = view.length - (view.length % 8);
  let i = 0;
  for (; i < blocked; i += 8) {
    a += view[i]!;
    b += view[i + 1]!;
    c += view[i + 2]!;
    d += view[i + 3]!;
    e += view[i + 4]!;
    f += view[i + 5]!;
    g += view[i + 6]!;
    h += view[i + 7]!;
  }
  for (; i < view.length; i++) a += view[i]!;
  return ((a + b) + (c + d)) + ((e + f) + (g + h));
}

/** Bytes copied into WebAssembly memory per call: well inside one core's 2 MiB L2 here. */
const WASM_BLOCK_BYTES = 256 * 1024;

/** Unsigned LEB128, as WebAssembly writes sizes. */
function leb128(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest >>>= 7;
    if (rest) byte |= 0x80;
    bytes.push(byte);
  } while (rest);
  return bytes;
}

/** One section of a WebAssembly binary: id, size, contents. */
function wasmSection(id: number, contents: number[]): number[] {
  return [id, ...leb128(contents.length), ...contents];
}

/**
 * `sum(pointer, bytes) -> f64` over memory[pointer, pointer + bytes), bytes a multiple of
 * 64. In text form:
 * ```wat
 * (func (param $p i32) (param $n i32) (result f64) (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $end i32)
 *   (local.set $end (i32.add (local.get $p) (local.get $n)))
 *   (block (loop
 *     (br_if 1 (i32.ge_u (local.get $p) (local.get $end)))
 *     (local.set $a (f64x2.add (local.get $a) (v128.load offset=0 (local.get $p))))   ;; and $b, $c, $d at 16, 32, 48
 *     (local.set $p (i32.add (local.get $p) (i32.const 64)))
 *     (br 0)))
 *   (local.set $a (f64x2.add (f64x2.add (local.get $a) (local.get $b)) (f64x2.add (local.get $c) (local.get $d))))
 *   (f64.add (f64x2.extract_lane 0 (local.get $a)) (f64x2.extract_lane 1 (local.get $a))))
 * ```
 */
function wasmSumModule(options: { accumulators: 4 | 8; importMemory: boolean }): Uint8Array {
  const name = (text: string) => [text.length, ...Array.from(text, (char) => char.charCodeAt(0))];
  const F64X2_ADD = [0xfd, 0xf0, 0x01];
  const count = options.accumulators;
  const end = 2 + count; // locals: params 0..1, v128 accumulators 2..count+1, then the i32 end
  const accumulate = (local: number, offset: number) => [0x20, local, 0x20, 0, 0xfd, 0x00, 0x04, ...leb128(offset), ...F64X2_ADD, 0x21, local];
  const stride = 16 * count; // bytes per iteration (64 or 128), as a signed LEB128 i32.const
  const body = [
    0x02, count, 0x7b, 0x01, 0x7f, // locals: count x v128, 1 x i32
    0x20, 0, 0x20, 1, 0x6a, 0x21, end, // end = p + n
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0, 0x20, end, 0x4f, 0x0d, 1, // br_if 1 (p >= end)
    ...Array.from({ length: count }, (_, k) => accumulate(2 + k, 16 * k)).flat(),
    0x20, 0, 0x41, stride & 0x7f | 0x80, stride >> 7, 0x6a, 0x21, 0, // p += stride
    0x0c, 0, 0x0b, 0x0b, // br 0, end loop, end block
    ...Array.from({ length: count - 1 }, (_, k) => [0x20, 2, 0x20, 3 + k, ...F64X2_ADD, 0x21, 2]).flat(),
    0x20, 2, 0xfd, 0x21, 0, 0x20, 2, 0xfd, 0x21, 1, 0xa0, // lane 0 + lane 1
    0x0b,
  ];
  const pages = WASM_BLOCK_BYTES / 65536;
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...wasmSection(1, [1, 0x60, 2, 0x7f, 0x7f, 1, 0x7c]), // type: (i32, i32) -> f64
    ...(options.importMemory ? wasmSection(2, [1, ...name('env'), ...name('memory'), 2, 0, 1]) : []), // import env.memory, min 1 page
    ...wasmSection(3, [1, 0]), // one function of that type
    ...(options.importMemory ? [] : wasmSection(5, [1, 0, pages])), // own memory: one block
    ...wasmSection(7, options.importMemory ? [1, ...name('sum'), 0, 0] : [2, ...name('memory'), 2, 0, ...name('sum'), 0, 0]),
    ...wasmSection(10, [1, ...leb128(body.length), ...body]),
  ]);
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { exports: { memory: { buffer: ArrayBuffer }; sum: (pointer: number, bytes: number) => number } };
}

/** The project's TypeScript settings carry no WebAssembly types: the two constructors used, typed here. */
const wasmApi = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let wasm: { memory: Uint8Array; sum: (pointer: number, bytes: number) => number } | undefined;

/**
 * Sums the float64 words of `bytes` with WebAssembly SIMD, copying 256 KiB blocks into
 * the module's memory first (a tail of under 64 bytes is summed in JavaScript).
 *
 * @example
 * ```ts
 * sumFloat64Wasm(new Uint8Array(new Float64Array(16).fill(1).buffer)); // 16
 * ```
 */
export function sumFloat64Wasm(bytes: Uint8Array): number {
  if (!wasm) {
    const api = wasmApi();
    const exports = new api.Instance(new api.Module(wasmSumModule({ accumulators: 4, importMemory: false }))).exports;
    wasm = { memory: new Uint8Array(exports.memory.buffer), sum: exports.sum };
  }
  const words = float64Words(bytes);
  const aligned = new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  let total = 0;
  for (let at = 0; at < aligned.byteLength; at += WASM_BLOCK_BYTES) {
    const block = aligned.subarray(at, Math.min(aligned.byteLength, at + WASM_BLOCK_BYTES));
    const vectorBytes = block.byteLength - (block.byteLength % 64);
    wasm.memory.set(block.subarray(0, vectorBytes));
    total += wasm.sum(0, vectorBytes);
    if (vectorBytes < block.byteLength) total += sumFloat64Scalar(block.subarray(vectorBytes));
  }
  return total;
}

/** Bytes of each vector step of the in-place kernel (eight f64x2 accumulators). */
const IN_PLACE_STEP_BYTES = 128;

/** Compiled and warmed up once: V8 shares a module's optimised code between its instances. */
let inPlaceModule: object | undefined;

function warmedInPlaceModule(api: WasmApi): object {
  if (inPlaceModule) return inPlaceModule;
  const module = new api.Module(wasmSumModule({ accumulators: 8, importMemory: true }));
  const scratch = new (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly.Memory({ initial: 1 });
  const kernel = new api.Instance(module, { env: { memory: scratch } }).exports.sum;
  for (let round = 0; round < 2000; round++) kernel(0, 65536);
  inPlaceModule = module;
  return module;
}

/**
 * A float64 summing kernel over `memory` (a `WebAssembly.Memory`), for bytes already in
 * it: WebAssembly SIMD, eight f64x2 accumulators. The module is compiled and warmed up
 * once, on a scratch memory, at the first call (V8 first runs wasm in its baseline
 * compiler and only tiers a function up after some calls; one long call over a whole
 * tensor would otherwise run entirely unoptimised); JavaScript's kernels get the same
 * chance in the bench's untimed first round. Each memory then costs one instantiation.
 *
 * @example
 * ```ts
 * const sum = wasmSumInPlace(memory);
 * const total = sum(tensor.pointer, tensor.byteLength);
 * ```
 */
export function wasmSumInPlace(memory: { readonly buffer: ArrayBuffer }): (pointer: number, byteLength: number) => number {
  const api = wasmApi();
  const kernel = new api.Instance(warmedInPlaceModule(api), { env: { memory } }).exports.sum;
  return (pointer, byteLength) => {
    // The float64 words numpy's view and float64Words() take: from the first 8-aligned byte, whole words only.
    const skip = (8 - (pointer % 8)) % 8;
    const words = Math.floor(Math.max(0, byteLength - skip) / 8);
    const vectorBytes = words * 8 - ((words * 8) % IN_PLACE_STEP_BYTES);
    let total = kernel(pointer + skip, vectorBytes);
    const tail = new Float64Array(memory.buffer, pointer + skip + vectorBytes, words - vectorBytes / 8);
    for (let i = 0; i < tail.length; i++) total += tail[i]!;
    return total;
  };
}
