/**
 * The content digest of any tensor reader: for a `.zt` whose parts all carry digests,
 * the manifest's own content digest (§6.4, nothing else read); for anything else, the
 * content digest the same tensors would have once written as canonical `.zt` (every
 * tensor streamed through XXH3-64). So identical tensors give one id whatever the
 * format, placement, encoding or sharding.
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import type { TensorReader } from '../../model/types.js';
import { cborEncodeCanonical } from './cbor.js';
import { ztDigestOf, ztHasher, type ZtDigestAlgorithm } from './digest.js';
import { ztStorageOf } from './dtypes.js';
import type { ZtReader } from './reader.js';
import { ztContentDigest } from './verify.js';

/**
 * The content id of the tensors a reader holds, `"<algo>:<hex>"` (sha256 by default, as `zt id`).
 *
 * @example
 * ```ts
 * await using reader = await openTensorFile('model.safetensors');
 * await ztContentIdOf(reader); // same as for the file converted to .zt
 * ```
 */
export async function ztContentIdOf(reader: TensorReader, options: { algorithm?: ZtDigestAlgorithm; signal?: AbortSignal } = {}): Promise<string> {
  const algorithm = options.algorithm ?? 'sha256';
  const zt = reader as Partial<ZtReader>;
  if (reader.format === 'zt' && zt.manifest) {
    const complete = [...zt.manifest.objects.values()].every((object) => [...object.parts.values()].every((part) => part.digest !== undefined));
    if (complete) return ztContentDigest(zt.manifest, algorithm);
  } else if (reader.format === 'zt' && zt.dataShard) {
    throw new TensioError('UNSUPPORTED_FEATURE', 'zt: a data shard has no manifest and so no content id; ask for the id of the root file that names it', { format: 'zt' });
  }
  const objects = new Map<string, unknown>();
  for (const info of reader.tensors) {
    throwIfAborted(options.signal);
    const name = info.name.normalize('NFC');
    if (info.layout) {
      // Multi-part: each part's decoded bytes.
      const parts = new Map<string, unknown>();
      const zo = zt.manifest?.objects.get(info.name);
      for (const part of info.parts ?? []) {
        const hasher = ztHasher('xxh3');
        for await (const chunk of reader.streamPart(info.name, part.name, options.signal ? { signal: options.signal } : {})) hasher.update(chunk);
        const zp = zo?.parts.get(part.name);
        const storage = zp ? { dtype: zp.dtype, type: zp.type } : ztStorageOf(part.dtype);
        if (!storage) throw new TensioError('UNSUPPORTED_DTYPE', `zt: part ${part.name} of ${info.name} (${part.dtype}) has no zTensor type`, { format: 'zt' });
        parts.set(part.name, { dtype: storage.dtype, ...(storage.type !== undefined ? { type: storage.type } : {}), digest: hasher.digest() });
      }
      const layoutName = zo?.layout ?? (info.layout.kind === 'sparse_csr' ? 'zt.sparse_csr/1' : info.layout.kind === 'sparse_coo' ? 'zt.sparse_coo/1' : info.layout.kind === 'other' ? info.layout.name : `zt.${info.layout.kind}/1`);
      objects.set(name, { shape: info.shape, layout: layoutName, ...(zo?.attributesCbor !== undefined ? { attributes: zo.attributesCbor } : {}), parts });
      continue;
    }
    const storage = ztStorageOf(info.dtype);
    if (!storage) throw new TensioError('UNSUPPORTED_DTYPE', `zt: ${info.name} is ${info.dtype}, which zTensor cannot hold, so it has no content id`, { format: 'zt' });
    const hasher = ztHasher('xxh3');
    for await (const chunk of reader.stream(info.name, options.signal ? { signal: options.signal } : {})) hasher.update(chunk);
    objects.set(name, {
      shape: info.shape,
      layout: storage.layout ?? 'dense',
      ...(storage.attributes ? { attributes: storage.attributes } : {}),
      parts: { data: { dtype: storage.dtype, ...(storage.type !== undefined ? { type: storage.type } : {}), digest: hasher.digest() } },
    });
  }
  return ztDigestOf(algorithm, cborEncodeCanonical(['zt.content/1', objects]));
}
