/**
 * `contentId(input)`: one id for the tensors a file holds, whatever its format, layout
 * on disk, encoding or sharding: zTensor's content digest (§6.4), which a `.zt` file
 * carries in its manifest and any other file gets by streaming its tensors through
 * XXH3-64 (the zTensor implementation is loaded on first use).
 */
import type { ZtDigestAlgorithm } from '../formats/zt/digest.js';
import type { SourceInput } from '../storage/source-input.js';
import { openTensorFile, type OpenTensorFileOptions } from './open.js';

/** Options for {@link contentId}. */
export interface ContentIdOptions extends OpenTensorFileOptions {
  /** Hash of the canonical description: `'sha256'` (default, as `zt id`) or `'xxh3'`. */
  algorithm?: ZtDigestAlgorithm;
}

/**
 * The content id of a tensor file, `"sha256:<hex>"`.
 *
 * @example
 * ```ts
 * (await contentId('model.safetensors')) === (await contentId('model.zt')); // true for the same tensors
 * ```
 */
export async function contentId(input: SourceInput, options: ContentIdOptions = {}): Promise<string> {
  const { ztContentIdOf } = await import('../formats/zt/identity.js');
  const { algorithm, ...openOptions } = options;
  const reader = await openTensorFile(input, openOptions);
  try {
    return await ztContentIdOf(reader, { ...(algorithm ? { algorithm } : {}), ...(options.signal ? { signal: options.signal } : {}) });
  } finally {
    await reader.close();
  }
}
