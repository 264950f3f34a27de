/**
 * The streaming writer (in the style of stsw's StreamWriter): the whole plan is known
 * up front, so the header goes out first; tensor bytes then arrive in chunks of any
 * size, in file order, and go straight to disk. Memory stays flat whatever the file size.
 * With `crc32`, each tensor's CRC is computed on the way through and patched into
 * placeholders reserved in the header just before the file is published.
 */
import { errorFactory, throwIfAborted } from '../../core/errors.js';
import type { TensorBytes, TensorSpec, TensorWriter } from '../../model/types.js';
import { chunksOf } from '../../storage/tensor-bytes.js';
import type { ByteSink } from '../../storage/byte-sink.js';
import { openWriteSink, type StagingPolicy, type WriteTarget } from '../../storage/write-target.js';
import { safetensorsFormatCrc32, safetensorsCrc32Update } from './checksum.js';
import { safetensorsPlanLayout, type SafetensorsLayout, type SafetensorsLayoutEntry } from './write.js';
import { quoteInput } from '../../core/quote.js';

const fail = errorFactory('safetensors');

/** A sink that can patch bytes it already wrote (needed for `crc32`); {@link atomicFileSink} is one. */
export type PatchableByteSink = ByteSink & { writeAt?(position: number, bytes: Uint8Array): Promise<void> };

/** Options for {@link safetensorsStreamWriter}. */
export interface SafetensorsStreamWriterOptions {
  /** The plan: every tensor the file will hold. */
  tensors: readonly TensorSpec[];
  /** `__metadata__` string map. */
  metadata?: Readonly<Record<string, string>>;
  /** Record each tensor's CRC32 in `__metadata__` as `crc32:<name>` (8 hex digits). Default false. */
  crc32?: boolean;
  /** Replace an existing file. Default true. */
  overwrite?: boolean;
  /** Keep the plan's order instead of the reference order (largest alignment first, then name). */
  preserveOrder?: boolean;
  /** fsync before publishing. Default true. */
  durable?: boolean;
  /** Largest header written; default 100 MB, what readers accept. */
  maxHeaderBytes?: number;
  /** Spaces reserved in the header for metadata edits in place (see `SafetensorsLayoutOptions.headerReserve`). */
  headerReserve?: number;
  /**
   * With `crc32` and a target that cannot patch (`canWriteAt` false): `'local'` (default)
   * stages the file in a local temporary file, `'never'` refuses with `UNSUPPORTED_FEATURE`.
   */
  staging?: StagingPolicy;
}

/**
 * A safetensors file being streamed. Call {@link writeBlock} with chunks of each tensor
 * in {@link order}, {@link finalizeTensor} after each (optional when the next tensor's
 * first block follows), then {@link close}. Also a {@link TensorWriter} (`add`).
 *
 * @example
 * ```ts
 * const writer = await safetensorsStreamWriter('big.safetensors', { tensors: plan, crc32: true });
 * for (const name of writer.order) { for await (const chunk of source(name)) await writer.writeBlock(name, chunk); await writer.finalizeTensor(name); }
 * await writer.close();
 * ```
 */
export class SafetensorsStreamWriter implements TensorWriter {
  readonly format = 'safetensors';
  /** Tensor names in file order: the order blocks must arrive in. */
  readonly order: readonly string[];
  /** Where everything goes. */
  readonly layout: SafetensorsLayout;
  private readonly sink: PatchableByteSink;
  private readonly crcs = new Map<string, number>();
  private readonly withCrc: boolean;
  private current = 0;
  private written = 0;
  private crc = 0;
  private state: 'open' | 'busy' | 'closed' | 'aborted' = 'open';

  private constructor(sink: PatchableByteSink, layout: SafetensorsLayout, withCrc: boolean) {
    this.sink = sink;
    this.layout = layout;
    this.withCrc = withCrc;
    this.order = layout.entries.map((entry) => entry.name);
  }

  /** Plans the file, opens the sink and writes the header. Prefer {@link safetensorsStreamWriter}. */
  static async create(target: WriteTarget, options: SafetensorsStreamWriterOptions): Promise<SafetensorsStreamWriter> {
    const layout = safetensorsPlanLayout(options.tensors, {
      ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
      ...(options.crc32 ? { crc32: true } : {}),
      ...(options.preserveOrder ? { preserveOrder: true } : {}),
      ...(options.maxHeaderBytes !== undefined ? { maxHeaderBytes: options.maxHeaderBytes } : {}),
      ...(options.headerReserve !== undefined ? { headerReserve: options.headerReserve } : {}),
    });
    // crc32 patches the CRCs into the header after the data went by: the sink must writeAt or be staged.
    const sink: PatchableByteSink = await openWriteSink(target, {
      noOverwrite: options.overwrite === false,
      ...(options.durable === false ? { durable: false } : {}),
      needsWriteAt: options.crc32 === true,
      ...(options.staging ? { staging: options.staging } : {}),
      format: 'safetensors',
      why: 'crc32 writes each tensor\'s CRC-32 into the header after its data',
    });
    try {
      await sink.write(layout.header);
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return new SafetensorsStreamWriter(sink, layout, options.crc32 === true);
  }

  /** The tensor that the next block belongs to, or undefined when all are finalized. */
  get currentTensor(): string | undefined {
    return this.layout.entries[this.current]?.name;
  }

  /**
   * Appends a chunk of `name`'s bytes. Throws `OUT_OF_ORDER` for a tensor that is not
   * next, `SIZE_MISMATCH` when the chunk would overrun the tensor. Do not change
   * `chunk` until the promise resolves.
   */
  async writeBlock(name: string, chunk: Uint8Array): Promise<void> {
    this.enter();
    try {
      const entry = this.advanceTo(name);
      if (this.written + chunk.byteLength > entry.byteLength) {
        fail('SIZE_MISMATCH', `safetensors: tensor ${quoteInput(name)} takes ${entry.byteLength} bytes; ${this.written + chunk.byteLength} were given`);
      }
      if (chunk.byteLength === 0) return;
      await this.sink.write(chunk);
      if (this.withCrc) this.crc = safetensorsCrc32Update(this.crc, chunk);
      this.written += chunk.byteLength;
    } finally {
      this.leave();
    }
  }

  /** Ends tensor `name`: throws `SIZE_MISMATCH` unless all its bytes were written. */
  async finalizeTensor(name: string): Promise<void> {
    this.enter();
    try {
      this.advanceTo(name);
      this.finishCurrent();
    } finally {
      this.leave();
    }
  }

  /** {@link TensorWriter.add}: writes every chunk of `data` as tensor `name`, then finalizes it. */
  async add(name: string, data: TensorBytes, options: { signal?: AbortSignal } = {}): Promise<void> {
    for await (const chunk of chunksOf(data, options.signal)) {
      throwIfAborted(options.signal);
      await this.writeBlock(name, chunk);
    }
    await this.finalizeTensor(name);
  }

  /** Checks every tensor is complete, patches the CRCs in, fsyncs and publishes atomically. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.enter();
    try {
      while (this.current < this.layout.entries.length) this.finishCurrent();
      if (this.withCrc) {
        const writeAt = this.sink.writeAt?.bind(this.sink);
        if (!writeAt) fail('INVALID_STATE', 'safetensors: the sink lost its writeAt');
        for (const [name, offset] of this.layout.crc32Offsets) {
          await writeAt!(offset, new TextEncoder().encode(safetensorsFormatCrc32(this.crcs.get(name)!)));
        }
      }
      await this.sink.close();
      this.state = 'closed';
    } finally {
      if (this.state === 'busy') this.state = 'open';
    }
  }

  /** Throws the partial file away (the target keeps its old content). Safe after close. */
  async abort(): Promise<void> {
    if (this.state === 'closed' || this.state === 'aborted') return;
    this.state = 'aborted';
    await this.sink.abort();
  }

  /** The CRC32s computed so far (finalized tensors), as stored in the header. */
  checksums(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of this.crcs) out[name] = safetensorsFormatCrc32(value);
    return out;
  }

  private enter(): void {
    if (this.state === 'busy') fail('INVALID_STATE', 'safetensors: the stream writer is busy; await each call before the next');
    if (this.state !== 'open') fail('INVALID_STATE', `safetensors: the stream writer is ${this.state}`);
    this.state = 'busy';
  }

  private leave(): void {
    if (this.state === 'busy') this.state = 'open';
  }

  /** Moves past complete tensors until `name` is current (zero-byte tensors need no blocks). */
  private advanceTo(name: string): SafetensorsLayoutEntry {
    const entries = this.layout.entries;
    while (entries[this.current] && entries[this.current]!.name !== name && this.written === entries[this.current]!.byteLength) {
      this.finishCurrent();
    }
    const entry = entries[this.current];
    if (entry?.name === name) return entry;
    const position = this.order.indexOf(name);
    if (position < 0) return fail('NOT_FOUND', `safetensors: tensor ${quoteInput(name)} is not in the plan`);
    if (position < this.current) return fail('OUT_OF_ORDER', `safetensors: tensor ${quoteInput(name)} is already finalized`);
    return fail('OUT_OF_ORDER', `safetensors: tensor ${quoteInput(name)} comes later; ${quoteInput(entry?.name)} has ${this.written} of ${entry?.byteLength} bytes`);
  }

  private finishCurrent(): void {
    const entry = this.layout.entries[this.current]!;
    if (this.written !== entry.byteLength) {
      fail('SIZE_MISMATCH', `safetensors: tensor ${quoteInput(entry.name)} got ${this.written} of its ${entry.byteLength} bytes`);
    }
    this.crcs.set(entry.name, this.crc);
    this.current++;
    this.written = 0;
    this.crc = 0;
  }
}

/**
 * Opens a streaming safetensors writer publishing to `target`: a path (written
 * atomically), a sink or `{ store, key }`. With `crc32`, a sink that cannot `writeAt`
 * is staged through a local temporary file (or refused with `staging: 'never'`).
 *
 * @example
 * ```ts
 * const writer = await safetensorsStreamWriter('out.safetensors', { tensors: [{ name: 'x', dtype: 'float32', shape: [1024] }], crc32: true });
 * await writer.writeBlock('x', firstHalf); await writer.writeBlock('x', secondHalf);
 * await writer.close();
 * ```
 */
export function safetensorsStreamWriter(target: WriteTarget, options: SafetensorsStreamWriterOptions): Promise<SafetensorsStreamWriter> {
  return SafetensorsStreamWriter.create(target, options);
}
