/**
 * Checks on where a conversion will write, made before anything is read or written:
 * one behaviour for every output format (single files, sharded checkpoints, folder
 * stores), and errors that name the folder at fault rather than a temporary file.
 */
import { localPathKind } from '../storage/local-paths.js';
import { basename, dirname, join } from 'node:path';
import { TensioError } from '../core/errors.js';
import { isHttpUrl, redactUrl } from '../storage/source-input.js';
import { isS3Url } from '../storage/s3-location.js';
import type { TensorFormat } from '../model/types.js';

/**
 * Throws when `output` cannot be written as `format`: its parent folder is missing
 * (`NOT_FOUND`, naming the folder; the CLI never creates parent folders) or is not a
 * folder, or `output` is an existing folder and the format writes a single file
 * (`INVALID_ARGUMENT`; `overwrite` would only fail at the final rename). Library
 * `convert` passes `parentMustExist: false`: some writers (sharded checkpoints,
 * NumPack stores) create their folder there.
 *
 * @example
 * ```ts
 * await checkOutputPath('out/model.safetensors', getFormat('safetensors'));
 * ```
 */
export async function checkOutputPath(output: string, format: TensorFormat, options: { parentMustExist?: boolean } = {}): Promise<void> {
  if (isHttpUrl(output)) throw new TensioError('UNSUPPORTED_FEATURE', `cannot write to ${redactUrl(output)}: HTTP servers are read-only to tensio; write to a local path or an s3:// location`, { path: redactUrl(output) });
  // An object store has no folders to check: a prefix exists as soon as a key is written under it.
  if (isS3Url(output)) return;
  if (options.parentMustExist !== false) await checkOutputFolder(output);
  const outputIsFolder = (await localPathKind(output)) === 'folder'; // usually nothing there yet
  if (outputIsFolder && !format.capabilities.folder) {
    const example = join(output, `model${format.extensions[0] ?? ''}`);
    throw new TensioError('INVALID_ARGUMENT', `${output} is a folder, and ${format.name} writes a single file; name a file instead (e.g. ${example})`, { path: output });
  }
}

async function checkOutputFolder(output: string): Promise<void> {
  const parent = dirname(output);
  const kind = await localPathKind(parent);
  if (kind === 'missing') {
    throw new TensioError('NOT_FOUND', `the folder ${parent} (where ${basename(output)} would be written) does not exist; create it first (mkdir -p ${parent})`, { path: parent });
  }
  const parentIsFolder = kind === 'folder';
  if (!parentIsFolder) {
    throw new TensioError('INVALID_ARGUMENT', `${parent} is not a folder, so ${basename(output)} cannot be written inside it`, { path: parent });
  }
}
