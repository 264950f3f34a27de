/**
 * zTensor verification and identity: every part's digest (xxh3 or sha256 over its
 * decoded bytes) and content rules, CSR data rules, every shard's size and whole-file
 * digest; and the content digest (§6.4) that `tensio id` prints.
 */
import { TensioError, throwIfAborted } from '../../core/errors.js';
import type { VerifyOptions, VerifyProblem, VerifyReport } from '../../model/types.js';
import type { SourceInput } from '../../storage/source-input.js';
import { cborEncodeCanonical } from './cbor.js';
import { ztDigestAlgorithmOf, ztDigestOf, ztHasher, type ZtDigestAlgorithm } from './digest.js';
import { ztOpenAnyVersion, type ZtOpenOptions, type ZtReader } from './reader.js';
import type { ZtV1Reader } from './v1.js';
import { ZT_LAYOUT_CSR, ztReject, type ZtManifest } from './types.js';

/**
 * The content digest of a manifest (§6.4): the hash of the deterministic CBOR of
 * `["zt.content/1", {object: {shape, layout, attributes?, parts: {part: {dtype, type?, digest}}}}]`.
 * Independent of placement, encoding and sharding; undefined (`UNSUPPORTED_FEATURE`)
 * when a part has no digest.
 *
 * @example
 * ```ts
 * ztContentDigest(reader.manifest!); // 'sha256:…'
 * ```
 */
export function ztContentDigest(manifest: ZtManifest, algorithm: ZtDigestAlgorithm = 'sha256'): string {
  const objects = new Map<string, unknown>();
  for (const [name, object] of manifest.objects) {
    const parts = new Map<string, unknown>();
    for (const [partName, part] of object.parts) {
      if (part.digest === undefined) {
        throw new TensioError('UNSUPPORTED_FEATURE', `zt: ${JSON.stringify(name)}/${JSON.stringify(partName)} carries no digest, so the file has no content digest (write it with digests, e.g. tensio compress or convert to .zt)`, { format: 'zt' });
      }
      parts.set(partName, { dtype: part.dtype, ...(part.type !== undefined ? { type: part.type } : {}), digest: part.digest });
    }
    objects.set(name, { shape: object.shape, layout: object.layout, ...(object.attributesCbor !== undefined ? { attributes: object.attributesCbor } : {}), parts });
  }
  return ztDigestOf(algorithm, cborEncodeCanonical(['zt.content/1', objects]));
}

/**
 * Verifies a `.zt` file: structure (at open), every part's digest and content rules,
 * CSR data, and every shard the manifest names (size, then whole-file digest).
 *
 * @example
 * ```ts
 * const report = await ztVerify('model.zt'); // report.ok, report.checksumsVerified
 * ```
 */
export async function ztVerify(input: SourceInput, options: VerifyOptions & Pick<ZtOpenOptions, 'openShard'> = {}): Promise<VerifyReport> {
  const path = typeof input === 'string' ? input : input instanceof URL ? input.toString() : '<bytes>';
  const problems: VerifyProblem[] = [];
  throwIfAborted(options.signal);
  let reader: ZtReader;
  try {
    const any = await ztOpenAnyVersion(input, { ...(options.signal ? { signal: options.signal } : {}), ...(options.http ? { http: options.http } : {}), ...(options.s3 ? { s3: options.s3 } : {}), ...(options.openShard ? { openShard: options.openShard } : {}) });
    if ('lineage' in any) return await verifyV1(any, path);
    reader = any;
  } catch (error) {
    if (!(error instanceof TensioError) || error.code === 'NOT_FOUND' && !/zt:/.test(error.message)) throw error;
    return { ok: false, format: 'zt', path, tensors: 0, checksumsVerified: 0, withoutChecksum: 0, problems: [{ code: error.code, message: error.message }] };
  }
  let verified = 0;
  let without = 0;
  let tensors = 0;
  try {
    try {
      await reader.checkStart(options.signal ? { signal: options.signal } : {}); // a URL opened from its end: its start magic
    } catch (error) {
      if (!(error instanceof TensioError) || error.code === 'ABORTED') throw error;
      problems.push({ code: error.code, message: error.message });
    }
    const manifest = reader.manifest;
    const total = [...(manifest?.objects.values() ?? [])].reduce((sum, object) => sum + [...object.parts.values()].reduce((s, p) => s + Number(p.blob.length), 0), 0);
    let done = 0;
    for (const [name, object] of manifest?.objects ?? []) {
      tensors++;
      let objectVerified = true;
      for (const [partName, part] of object.parts) {
        throwIfAborted(options.signal);
        try {
          if (await reader.verifyPart(name, partName, options.signal ? { signal: options.signal } : {})) verified++;
          else objectVerified = false;
        } catch (error) {
          if (!(error instanceof TensioError) || error.code === 'ABORTED') throw error;
          problems.push({ code: error.code, message: error.message, tensor: name });
        }
        done += Number(part.blob.length);
        options.onProgress?.({ done, total, item: name });
      }
      if (!objectVerified) without++;
      if (object.layout === ZT_LAYOUT_CSR) {
        try {
          await reader.readCsr(name);
        } catch (error) {
          if (!(error instanceof TensioError) || error.code === 'ABORTED') throw error;
          if (!problems.some((p) => p.tensor === name && p.message === error.message)) problems.push({ code: error.code, message: error.message, tensor: name });
        }
      }
    }
    for (const [shardName, shard] of manifest?.shards ?? []) {
      throwIfAborted(options.signal);
      try {
        await verifyShard(reader, shardName, shard.digest);
        verified++;
      } catch (error) {
        if (!(error instanceof TensioError) || error.code === 'ABORTED') throw error;
        problems.push({ code: error.code, message: error.message });
      }
    }
    // An abort from the last progress callback must not end in a report that says "sound".
    throwIfAborted(options.signal);
  } finally {
    await reader.close();
  }
  return {
    ok: problems.length === 0,
    format: 'zt',
    path,
    tensors,
    checksumsVerified: verified,
    withoutChecksum: without,
    problems,
    checksumNote: `${verified} digest(s) over decoded part bytes${reader.manifest && reader.manifest.shards.size > 0 ? ` and shard files (${reader.manifest.shards.size} shard(s))` : ''}${reader.dataShard ? '; a data shard (no manifest)' : ''}`,
  };
}

/** A shard named by the manifest: size already checked at open; the whole file's digest here. */
async function verifyShard(reader: ZtReader, name: string, digest: string): Promise<void> {
  const source = await reader.openShardSource(name);
  const hasher = ztHasher(ztDigestAlgorithmOf(digest));
  const step = 8 * 2 ** 20;
  for (let at = 0; at < source.size; at += step) hasher.update(await source.read(at, Math.min(step, source.size - at)));
  const actual = hasher.digest();
  if (actual !== digest) ztReject('ShardIdentity', `shard ${JSON.stringify(name)} has digest ${actual}, the manifest says ${digest}`);
}

/** A v1 file: every stored component's digest, then every tensor (or part) read through. */
async function verifyV1(reader: ZtV1Reader, path: string): Promise<VerifyReport> {
  try {
    const { verified, without, problems } = await reader.verifyDigests();
    for (const info of reader.tensors) {
      try {
        if (info.parts) for (const part of info.parts) for await (const _ of reader.streamPart(info.name, part.name)) void _;
        else for await (const _ of reader.stream(info.name)) void _;
      } catch (error) {
        if (!(error instanceof TensioError) || error.code === 'ABORTED') throw error;
        problems.push({ code: error.code, message: error.message, tensor: info.name });
      }
    }
    return { ok: problems.length === 0, format: 'zt', path, tensors: reader.tensors.length, checksumsVerified: verified, withoutChecksum: without, problems, checksumNote: `zTensor ${reader.lineage}: CRC-32C/SHA-256 digests over stored component bytes` };
  } finally {
    await reader.close();
  }
}
