/**
 * `openTensorFile(input)`: any supported file, folder or source as a {@link TensorReader}.
 */
import { TensioError } from '../core/errors.js';
import type { ByteSource } from '../storage/byte-source.js';
import { describeSourceInput, isByteSource, isRemoteLocation, localPathOf, openingFromEnd, openSourceInput, type SourceInput, sourceOptionsOf } from '../storage/source-input.js';
import type { OpenOptions, TensorFormat, TensorReader } from '../model/types.js';
import { detectLocalFile, detectSourceFormat, footerIndexedFormat, remoteLayoutFormat } from './detect.js';
import { getFormat, type FormatListOption } from './registry.js';
import type { OpenFormatOptions } from './format-options.js';

/**
 * Options for {@link openTensorFile}. With a literal `format`, `formatOptions` is that
 * format's own options type (`{ format: 'npz', formatOptions: { checkCrc: false } }`).
 */
export interface OpenTensorFileOptions<F extends string = string> extends Omit<OpenOptions, 'formatOptions'>, FormatListOption {
  /** Skip detection and open as this format. */
  format?: F;
  /** The format's own options (limits, names); typed per format for a literal `format`. */
  formatOptions?: OpenFormatOptions<F>;
}

/**
 * Opens any supported tensor file, folder or source as a {@link TensorReader}: a local
 * path, a `file:` URL, bytes in memory or any {@link ByteSource}.
 *
 * @example
 * ```ts
 * await using reader = await openTensorFile('weights.npz');
 * await using fromBytes = await openTensorFile(fileBytes, { format: 'npy' });
 * console.log(reader.format, reader.tensors.length);
 * ```
 */
export async function openTensorFile<F extends string = string>(input: SourceInput, options: OpenTensorFileOptions<F> = {}): Promise<TensorReader> {
  const path = typeof input === 'string' || input instanceof URL ? localPathOf(input) : undefined;
  if (path !== undefined) {
    if (options.format) return openWith(getFormat(options.format, options.formats), path, options);
    // The file detection opened is handed over when the format opens a local file as its source (one open, not two).
    const { format, source } = await detectLocalFile(path, options);
    if (!source) return openWith(format, path, options);
    try {
      return closingSourceWith(await openWith(format, source, options), source);
    } catch (error) {
      await source.close?.();
      throw error;
    }
  }
  if (!(input instanceof Uint8Array) && !isByteSource(input) && typeof input !== 'string' && !(input instanceof URL)) {
    throw new TensioError('INVALID_ARGUMENT', `openTensorFile takes a path, a URL, a Uint8Array or a ByteSource, not ${input === null ? 'null' : typeof input}`);
  }
  const named = options.format ? getFormat(options.format, options.formats) : undefined;
  let fromEnd: TensorFormat | undefined;
  if (isRemoteLocation(input)) {
    // A remote layout of several files (a sharded index, a NumPack store) is opened by its URL;
    // one remote file is opened once as a source and sniffed (one request for both), or, for a
    // format indexed by a footer known from the URL or the caller, opened with a suffix read.
    const layout = remoteLayoutFormat(String(input), options.formats, named);
    if (layout) return openWith(layout, String(input), options);
    fromEnd = footerIndexedFormat(String(input), options.formats, named);
  }
  const sourceOptions = sourceOptionsOf(options);
  const { source, owned } = await openSourceInput(input, fromEnd ? openingFromEnd(sourceOptions) : sourceOptions);
  try {
    const format = named ?? fromEnd ?? await detectSourceFormat(source, options);
    const reader = await openWith(format, source, options);
    return owned ? closingSourceWith(reader, source) : reader;
  } catch (error) {
    if (owned) await source.close?.();
    throw error;
  }
}

function openWith(format: TensorFormat, input: string | ByteSource, options: OpenTensorFileOptions<string>): Promise<TensorReader> {
  if (!format.open) throw new TensioError('UNSUPPORTED_FEATURE', `tensio cannot read ${format.name} files yet`);
  const { formats: _formats, format: _format, ...openOptions } = options;
  return format.open(input, openOptions as OpenOptions);
}

/** The same reader, whose `close()` also closes a source it was opened over. */
function closingSourceWith(reader: TensorReader, source: ByteSource): TensorReader {
  const close = async (): Promise<void> => {
    try {
      await reader.close();
    } finally {
      await source.close?.();
    }
  };
  const wrapped = Object.create(reader) as TensorReader;
  Object.defineProperties(wrapped, {
    close: { value: close },
    [Symbol.asyncDispose]: { value: close },
    path: { value: reader.path ?? describeSourceInput(source), enumerable: true },
  });
  return wrapped;
}
