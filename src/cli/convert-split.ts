/**
 * The split-conversion side of `tensio convert`: `--part I/N` (checked here, run by
 * the library's `convert`) and `--finish OUT` (the library's `finishSplitConvert`).
 */
import { basename } from 'node:path';
import { TensioError } from '../core/errors.js';
import { BUILT_IN_FORMATS, finishSplitConvert, type FinishSplitConvertResult } from '../operations/index.js';
import { parseSplitPart, type SplitPart } from '../operations/split/plan.js';
import type { TensorFormat } from '../model/types.js';
import { cliFormatBytes, cliFormatCount, cliFormatSeconds, cliJson } from './output.js';
import { cliProgressBar, cliProgressMode } from './progress.js';
import { CliUsageError, type CliContext } from './types.js';

/** The help paragraph of `--part` and `--finish` (kept with the code it describes). */
export const CLI_SPLIT_HELP = `      --part I/N      convert only part I of N of the tensors, for a conversion
                      split across processes or machines (no scheduler needed:
                      any job runner starts the parts). OUT is the index of a
                      sharded checkpoint (model.safetensors.index.json, or
                      pytorch_model.bin.index.json) in a folder every part
                      can write, or at an s3:// prefix. Tensors are dealt into N parts balanced by
                      bytes (largest first, each to the lightest part; the
                      same for every run), and part I writes its own shard
                      model-0000I-of-0000N.safetensors and a manifest (size,
                      checksum, tensors) in .model.safetensors.parts/. Give
                      every part the same IN, options and N. Running a part
                      again replaces only its own shard. The index is not
                      written: OUT is not a checkpoint until --finish
      --finish        (with OUT only) check that every part finished: each
                      shard exists with the size, tensors and checksum its
                      manifest records, all parts of the same N and plan; then
                      write the index (the commit point) and remove shards of
                      older runs. A missing or changed part exits 1 naming it
                      (INCOMPLETE, NOT_FOUND, SIZE_MISMATCH, CHECKSUM_MISMATCH,
                      INVALID_STATE); run that part again, then --finish
      --finish-when-done
                      with --part: after this part, if every part has finished,
                      run --finish too (the last part to end writes the index;
                      parts ending at once may each finish, writing the same
                      index). A refused finish exits 1; the part stays written
      --skip-checksums
                      with --finish: check sizes and headers, not checksums (a
                      finish otherwise reads every shard once)
`;

/** Examples of split conversions under common job runners. */
export const CLI_SPLIT_EXAMPLES = `
Split across processes or machines (every part writes to OUT's folder):
  # xargs -P: 4 processes on one machine, then the index
  seq 1 4 | xargs -P 4 -I{} \\
      tensio convert big.pt out/model.safetensors.index.json --part {}/4
  tensio convert --finish out/model.safetensors.index.json
  # Kubernetes indexed Job (completions: 16, completionMode: Indexed); then a
  # one-pod Job runs --finish
  tensio convert /data/big.pt /out/model.safetensors.index.json \\
      --part $((JOB_COMPLETION_INDEX + 1))/16
  # Slurm array (sbatch --array=1-16), then a job with
  # --dependency=afterok:JOBID running --finish
  tensio convert big.pt out/model.safetensors.index.json \\
      --part $SLURM_ARRAY_TASK_ID/16
`;

/**
 * Checks `--part` against the rest of the command line and returns the part. Usage
 * errors: a malformed I/N, OUT not naming a sharded index, `--max-shard-size`.
 */
export function cliSplitPart(text: string, output: string, outputFormat: TensorFormat, maxShardSize: unknown, finishWhenComplete = false): SplitPart & { finishWhenComplete?: boolean } {
  let part: SplitPart;
  try {
    part = parseSplitPart(text);
  } catch (error) {
    throw new CliUsageError(`--part: ${error instanceof Error ? error.message : String(error)}`, 'convert');
  }
  const layout = outputFormat.shardedOutput;
  if (!layout) {
    const can = BUILT_IN_FORMATS.filter((format) => format.shardedOutput).map((format) => `${format.name} (${format.shardedOutput!.defaultPrefix}${format.shardedOutput!.extension}.index.json)`);
    throw new CliUsageError(`--part writes one shard of a sharded checkpoint, which ${outputFormat.name} is not; OUT must name the index of one of: ${can.join(', ')}`, 'convert');
  }
  if (!output.toLowerCase().endsWith(`${layout.extension}.index.json`)) {
    throw new CliUsageError(`--part writes one shard of a sharded checkpoint: OUT must name its index (e.g. ${layout.defaultPrefix}${layout.extension}.index.json), not ${output}`, 'convert');
  }
  if (maxShardSize !== undefined) throw new CliUsageError('--part writes one shard per part (pick N for the shard size); --max-shard-size does not apply', 'convert');
  return finishWhenComplete ? { ...part, finishWhenComplete } : part;
}

/** `tensio convert --finish OUT`. */
export async function cliFinishSplit(output: string, values: Record<string, unknown>, context: CliContext): Promise<number> {
  if (values['finish-when-done'] === true) throw new CliUsageError('--finish-when-done applies to --part only (--finish finishes now)', 'convert');
  const ignored = Object.keys(values).filter((name) => !['finish', 'skip-checksums', 'to', 'json', 'progress', 'quiet', 'help'].includes(name) && values[name] !== undefined);
  if (ignored.length > 0) throw new CliUsageError(`--finish takes only OUT (and --to, --skip-checksums, --json, --progress, --quiet); the parts were converted with the other options: remove --${ignored[0]}`, 'convert');
  if (values['skip-checksums'] === true && values.finish !== true) throw new CliUsageError('--skip-checksums applies to --finish only', 'convert');
  const bar = cliProgressBar(context, 'finish', cliProgressMode(values));
  const started = context.now();
  let result: FinishSplitConvertResult;
  try {
    result = await finishSplitConvert(context.resolvePath(output), {
      ...(typeof values.to === 'string' ? { to: values.to } : {}),
      ...(values['skip-checksums'] === true ? { checksums: false } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
      onProgress: (progress) => bar.update(progress),
    });
  } catch (error) {
    if (error instanceof TensioError && error.code === 'INVALID_ARGUMENT' && /cannot tell the format/.test(error.message)) throw new CliUsageError(error.message, 'convert');
    throw error;
  } finally {
    bar.finish();
  }
  const seconds = (context.now() - started) / 1000;
  if (values.json === true) {
    context.stdout(cliJson({ output, ...result, seconds }));
    return 0;
  }
  context.stdout(
    `finished ${output} (${result.outputFormat}): ${result.parts} part${result.parts === 1 ? '' : 's'} checked, index written\n` +
    `  ${cliFormatCount(result.tensors)} tensor${result.tensors === 1 ? '' : 's'}, ${cliFormatBytes(result.bytes)} of tensor data in ${result.shards.length} shard${result.shards.length === 1 ? '' : 's'}` +
    `${result.checksumsVerified > 0 ? ` (${cliFormatCount(result.checksumsVerified)} checksum${result.checksumsVerified === 1 ? '' : 's'} matched)` : ' (sizes and headers checked, --skip-checksums)'} in ${cliFormatSeconds(seconds)}\n` +
    (result.removedFiles.length > 0 ? `  removed ${result.removedFiles.length} file${result.removedFiles.length === 1 ? '' : 's'} of an older run: ${result.removedFiles.slice(0, 5).map((file) => basename(file)).join(', ')}${result.removedFiles.length > 5 ? ', …' : ''}\n` : ''),
  );
  return 0;
}
