/**
 * Deep verification of a zip-based tensor file (.npz, PyTorch .pt): every member's
 * CRC32 recomputed, then the format's own structure read through to the last byte.
 */
import { isTensioError, throwIfAborted } from '../../core/errors.js';
import type { ByteSource } from '../../storage/byte-source.js';
import { fileSource } from '../../storage/file-source.js';
import type { Progress, TensorInfo, TensorReader, VerifyOptions, VerifyProblem, VerifyReport } from '../../model/types.js';
import { verifyTensors } from '../../model/verify-loop.js';
import { zipOpen } from '../../zip/read.js';

/**
 * Which zip member holds a tensor's bytes, as a member name or a suffix after a folder
 * (`data/0` matches `archive/data/0`); undefined when the format cannot say.
 */
export type ZipTensorMember = (info: TensorInfo) => string | undefined;

/**
 * Verifies a zip container and the tensors a format reads from it. Zip CRCs count as
 * the file's checksums; a member whose CRC field is 0 with data present (torch can
 * save with CRCs turned off) counts as carrying none. With `tensorMember`, a corrupt
 * member is reported with the names of the tensors whose bytes it holds, and
 * `withoutChecksum` counts tensors (not members) without a CRC.
 *
 * @example
 * ```ts
 * const report = await zipVerifyTensorFile('weights.npz', 'npz', (path) => npzOpen(path), {}, (info) => `${info.name}.npy`);
 * ```
 */
export async function zipVerifyTensorFile(
  input: string | ByteSource,
  format: string,
  openReader: (input: string | ByteSource) => Promise<TensorReader>,
  options: VerifyOptions = {},
  tensorMember?: ZipTensorMember,
): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  let checksumsVerified = 0;
  const withoutCrc = new Set<string>();
  const path = typeof input === 'string' ? input : (input.name ?? '<source>');
  // Open the tensors first (headers and pickle only), so record problems can name them.
  let reader: TensorReader | undefined;
  let openProblem: VerifyProblem | undefined;
  try {
    reader = await openReader(input);
  } catch (error) {
    if (!isTensioError(error) || error.code === 'ABORTED') throw error;
    openProblem = { code: error.code, message: error.message };
  }
  try {
    const source = typeof input === 'string' ? await fileSource(input) : input;
    let memberNames: string[] = [];
    try {
      const archive = await zipOpen(source, { format, ...(options.signal ? { signal: options.signal } : {}) });
      memberNames = archive.entries.map((entry) => entry.name);
      const tensorsOf = tensorsByMember(reader, memberNames, tensorMember);
      const membersTotal = archive.entries.reduce((sum, entry) => sum + entry.uncompressedSize, 0);
      // One total for the whole run (the members' bytes, then the tensors read through),
      // so a progress bar never jumps back.
      const total = membersTotal + (reader?.tensors.reduce((sum, info) => sum + info.byteLength, 0) ?? 0);
      // Deflated members whose CRC matched: the tensors they hold are not inflated a second
      // time by the structure pass (their bytes were just checked, and inflating is the cost).
      const inflatedAndChecked = new Set<string>();
      let done = 0;
      for (const entry of archive.entries) {
        throwIfAborted(options.signal);
        const hasCrc = entry.crc32 !== 0 || entry.uncompressedSize === 0;
        const names = tensorsOf.get(entry.name) ?? [];
        try {
          for await (const chunk of archive.streamEntry(entry, { checkCrc: hasCrc, ...(options.signal ? { signal: options.signal } : {}) })) {
            done += chunk.byteLength;
            options.onProgress?.({ done, total, item: entry.name });
          }
          if (hasCrc) {
            checksumsVerified += 1;
            if (entry.method !== 0) inflatedAndChecked.add(entry.name);
          } else withoutCrc.add(entry.name);
        } catch (error) {
          if (!isTensioError(error) || error.code === 'ABORTED') throw error;
          const holding = names.length > 0 ? ` (holds the data of ${describeNames(names)})` : '';
          problems.push({
            code: error.code,
            message: `${entry.name}${holding}: ${error.message}`,
            ...(names.length > 0 ? { tensor: names[0]!, tensors: names } : {}),
          });
        }
      }
      if (openProblem) problems.push(openProblem);
      if (problems.length === 0 && reader) {
        // Structure read through to the last byte of every tensor, by the shared loop
        // (signal and progress continue after the members' bytes).
        const opened = reader;
        const checkedMemberOf = new Map<string, string>();
        for (const [member, names] of tensorsOf) {
          if (!inflatedAndChecked.has(member)) continue;
          for (const name of names) checkedMemberOf.set(name, member);
        }
        const tally = await verifyTensors(async () => opened, {
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.onProgress ? { onProgress: (progress: Progress) => options.onProgress!({ ...progress, done: membersTotal + progress.done, total }) } : {}),
          checkTensor: (info) => (checkedMemberOf.has(info.name) ? 'skip' : 'read'),
        });
        problems.push(...tally.problems);
      }
      const tensors = reader?.tensors.length ?? 0;
      const dataMembers = new Set([...tensorsOf.keys()]);
      const withoutChecksum = reader && tensorMember
        ? reader.tensors.filter((info) => [...withoutCrc].some((member) => tensorsOf.get(member)?.includes(info.name))).length
        : withoutCrc.size;
      const checksumNote = reader && tensorMember
        ? `zip CRC-32s of ${memberNames.length} records: ${dataMembers.size} holding the data of ${tensors} tensor${tensors === 1 ? '' : 's'}, ${memberNames.length - dataMembers.size} other${memberNames.length - dataMembers.size === 1 ? '' : 's'}`
        : undefined;
      return { ok: problems.length === 0, format, path, tensors, checksumsVerified, withoutChecksum, problems, ...(checksumNote ? { checksumNote } : {}) };
    } catch (error) {
      if (!isTensioError(error) || error.code === 'ABORTED') throw error;
      problems.push({ code: error.code, message: error.message });
      if (openProblem && openProblem.code !== error.code) problems.push(openProblem);
      return { ok: false, format, path, tensors: reader?.tensors.length ?? 0, checksumsVerified, withoutChecksum: withoutCrc.size, problems };
    } finally {
      if (typeof input === 'string') await source.close?.();
    }
  } finally {
    await reader?.close();
  }
}

/** Member name → the tensors whose bytes it holds, in file order. */
function tensorsByMember(reader: TensorReader | undefined, memberNames: readonly string[], tensorMember: ZipTensorMember | undefined): Map<string, string[]> {
  const byMember = new Map<string, string[]>();
  if (!reader || !tensorMember) return byMember;
  const names = new Set(memberNames);
  for (const info of reader.tensors) {
    const wanted = tensorMember(info);
    if (wanted === undefined) continue;
    const member = names.has(wanted) ? wanted : memberNames.find((name) => name.endsWith(`/${wanted}`));
    if (member === undefined) continue;
    const list = byMember.get(member) ?? [];
    list.push(info.name);
    byMember.set(member, list);
  }
  return byMember;
}

function describeNames(names: readonly string[]): string {
  const shown = names.slice(0, 5).map((name) => JSON.stringify(name)).join(', ');
  return `tensor${names.length === 1 ? '' : 's'} ${shown}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
}
