/**
 * `formatOptions` typed per format. The operations are generic over the format's name,
 * so `openTensorFile(x, { format: 'npz', formatOptions: { checkCrc: false } })` is
 * checked against the npz reader's options, `convert(a, b, { to: 'safetensors',
 * writeOptions: { crc32: true } })` against the safetensors writer's, and a misspelt
 * key is a compile error. Without a literal format name (detection, the CLI's
 * `--format-option`) the options stay `Record<string, unknown>` and the format's
 * `openOptionNames`/`writeOptionNames` catch unknown keys at run time.
 *
 * A new format adds one line to {@link FormatOptionsByName} (type-only imports: they
 * load nothing at run time, so lazy formats stay lazy).
 */
import type { AnyFormatOptions, FormatOptionsOf } from '../model/types.js';
import type { NpyOpenFormatOptions, NpyWriteFormatOptions } from '../formats/npy/types.js';
import type { NpzOpenFormatOptions, NpzWriteFormatOptions } from '../formats/npz/types.js';
import type { PytorchOpenFormatOptions } from '../formats/pytorch/sharded.js';
import type { PytorchWriteFormatOptions } from '../formats/pytorch/types.js';
import type { SafetensorsOpenFormatOptions, SafetensorsWriteFormatOptions } from '../formats/safetensors/types.js';
import type { NpkWriterOptions } from '../npk/format.js';
import type { GgufOpenOptions } from '../formats/gguf/types.js';
import type { Hdf5OpenOptions, Hdf5WriteOptions } from '../formats/hdf5/types.js';
import type { ZtOpenOptions } from '../formats/zt/reader.js';
import type { ZtWriteOptions } from '../formats/zt/write.js';
import type { ZarrOpenOptions } from '../formats/zarr/reader.js';
import type { ZarrWriteOptions } from '../formats/zarr/write.js';

/** Options that travel beside `formatOptions` (never inside them). */
type Shared = 'signal' | 'http';

/**
 * Each built-in format's own `formatOptions`: `open` (also verify's) and `write`. Object
 * types, not interfaces (wrap an interface in `FormatOptionsOf`), so they pass where any
 * keys are expected.
 */
export interface FormatOptionsByName {
  safetensors: { open: SafetensorsOpenFormatOptions; write: SafetensorsWriteFormatOptions };
  npy: { open: NpyOpenFormatOptions; write: NpyWriteFormatOptions };
  npz: { open: NpzOpenFormatOptions; write: NpzWriteFormatOptions };
  pytorch: { open: PytorchOpenFormatOptions; write: PytorchWriteFormatOptions };
  npk: { open: Record<string, never>; write: NpkWriterOptions };
  gguf: { open: Omit<GgufOpenOptions, Shared>; write: AnyFormatOptions };
  hdf5: { open: Omit<Hdf5OpenOptions, Shared>; write: FormatOptionsOf<Hdf5WriteOptions> };
  zt: { open: Omit<ZtOpenOptions, Shared>; write: FormatOptionsOf<ZtWriteOptions> };
  zarr: { open: FormatOptionsOf<ZarrOpenOptions>; write: FormatOptionsOf<ZarrWriteOptions> };
}

/** A built-in format's name. */
export type BuiltInFormatName = keyof FormatOptionsByName;

/**
 * The open (and verify) `formatOptions` of format `F`; any keys for a name that is not
 * a literal built-in (`string`, a format of your own list).
 */
export type OpenFormatOptions<F extends string> = F extends BuiltInFormatName ? FormatOptionsByName[F]['open'] : AnyFormatOptions;

/** The writer `formatOptions` of format `F`; any keys for a name that is not a literal built-in. */
export type WriteFormatOptions<F extends string> = F extends BuiltInFormatName ? FormatOptionsByName[F]['write'] : AnyFormatOptions;
