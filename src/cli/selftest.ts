/**
 * `tensio selftest`: in a temporary folder, for every registered format that can both
 * read and write, write a small model of several dtypes, read it back (whole and as a
 * row slice), verify it, and convert it to every other writable format and back-read
 * the result. One PASS/FAIL line per format; exit 0 only when everything passed.
 */
import { makeTemporaryFolder, removeLocalTree } from '../storage/local-paths.js';
import { memoryMapStatus } from '../storage/memory-map.js';
import { zstdDecoderStatus } from '../storage/native-zstd.js';
import { join } from 'node:path';
import { isTensioError, TensioError } from '../core/errors.js';
import { createTensor, tensorsEqual, type Tensor } from '../core/tensor.js';
import { fromFloat32Array } from '../core/float-convert.js';
import { BUILT_IN_FORMATS, openTensorFile } from '../operations/index.js';
import { convert } from '../operations/index.js';
import { verifyTensorFile } from '../operations/index.js';
import type { TensorFormat, TensorSpec } from '../model/types.js';
import { cliParseArgs } from './args.js';
import { cliJson } from './output.js';
import type { CliCommand, CliContext } from './types.js';

/** A named tensor of the selftest model. */
export interface CliSampleTensor extends TensorSpec {
  readonly tensor: Tensor;
}

/**
 * The selftest model: small tensors of many dtypes (floats of four widths, signed and
 * unsigned integers, bool, a scalar), with deterministic, distinguishable values.
 *
 * @example
 * ```ts
 * for (const sample of cliSampleModel()) console.log(sample.name, sample.dtype);
 * ```
 */
export function cliSampleModel(): CliSampleTensor[] {
  const ramp = (count: number, scale: number, offset = 0) => Float32Array.from({ length: count }, (_, i) => i * scale + offset);
  const tensors: Tensor[] = [
    createTensor('float32', [4, 3], ramp(12, 0.25, -1.5)),
    fromFloat32Array(ramp(6, 0.5, -1), 'float16', [3, 2]),
    fromFloat32Array(ramp(8, 1.5, -4), 'bfloat16', [2, 4]),
    createTensor('float64', [5], Float64Array.from([Math.PI, -Math.E, 1e300, -0, 2 ** -1074])),
    createTensor('int64', [2, 2], BigInt64Array.from([-(2n ** 62n), -1n, 0n, 2n ** 62n])),
    createTensor('int32', [3], Int32Array.from([-(2 ** 31), 7, 2 ** 31 - 1])),
    createTensor('int8', [4], Int8Array.from([-128, -1, 0, 127])),
    createTensor('uint8', [2, 3], Uint8Array.from([0, 1, 2, 127, 128, 255])),
    createTensor('bool', [5], [true, false, true, true, false]),
    createTensor('float32', [], Float32Array.from([42.5])),
  ];
  const names = ['layer.weight', 'layer.half', 'layer.brain', 'constants', 'ids', 'counts', 'small', 'pixels', 'mask', 'scale'];
  return tensors.map((tensor, index) => ({ name: names[index]!, dtype: tensor.dtype, shape: tensor.shape, tensor }));
}

/** Writes samples with the format's own writer: all of them, or the first one when the format declares it holds one tensor per file. */
async function writeSamples(format: TensorFormat, path: string, samples: readonly CliSampleTensor[], signal?: AbortSignal): Promise<CliSampleTensor[]> {
  const chosen = format.capabilities.tensors === 'one' ? samples.slice(0, 1) : samples;
  const writer = await format.createWriter!(path, { tensors: chosen.map(({ name, dtype, shape }) => ({ name, dtype, shape })), overwrite: true });
  try {
    for (const name of writer.order) {
      const sample = chosen.find((candidate) => candidate.name === name)!;
      await writer.add(name, sample.tensor.data, signal ? { signal } : undefined);
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return [...chosen];
}

/** A sample as one file holds it: single-tensor formats (.npy) name their tensor themselves. */
interface HeldSample {
  readonly nameInFile: string;
  readonly sample: CliSampleTensor;
}

/**
 * Opens `path` (format detected), checks its format and that every expected tensor
 * reads back equal. A file of one tensor is matched by position, since formats such as
 * `.npy` keep no tensor name. Returns the tensors under the names the file uses.
 */
async function checkReadBack(path: string, formatName: string, expected: readonly CliSampleTensor[], signal?: AbortSignal): Promise<HeldSample[]> {
  const readOptions = typedReadOptions(formatName, expected);
  const reader = await openTensorFile(path, { ...(signal ? { signal } : {}), ...(readOptions ? { formatOptions: readOptions } : {}) });
  try {
    if (reader.format !== formatName) throw new TensioError('UNKNOWN_FORMAT', `wrote ${formatName} but it was detected as ${reader.format}`);
    if (reader.tensors.length !== expected.length) {
      throw new TensioError('SIZE_MISMATCH', `wrote ${expected.length} tensors, read ${reader.tensors.length}`);
    }
    const held: HeldSample[] = expected.length === 1
      ? [{ nameInFile: reader.tensors[0]!.name, sample: expected[0]! }]
      : expected.map((sample) => ({ nameInFile: sample.name, sample }));
    for (const { nameInFile, sample } of held) {
      const tensor = await reader.read(nameInFile, signal ? { signal } : {});
      if (!tensorsEqual(tensor, sample.tensor)) {
        throw new TensioError('CHECKSUM_MISMATCH', `tensor ${sample.name} (${sample.dtype} [${sample.shape.join(', ')}]) read back as ${tensor.dtype} [${tensor.shape.join(', ')}] with different bytes`);
      }
      const rows = sample.shape[0] ?? 0;
      if (rows >= 2) {
        // Rows 1.. through the slice path, which reads only those rows where the format allows it.
        const rowBytes = sample.tensor.data.byteLength / rows;
        const slice = await reader.read(nameInFile, { slice: { start: 1 }, ...(signal ? { signal } : {}) });
        const expectedSlice = { dtype: sample.dtype, shape: [rows - 1, ...sample.shape.slice(1)], data: sample.tensor.data.subarray(rowBytes) };
        if (!tensorsEqual(slice, expectedSlice)) {
          throw new TensioError('CHECKSUM_MISMATCH', `rows 1..${rows} of ${sample.name} read through a slice differ from the original`);
        }
      }
    }
    return held;
  } finally {
    await reader.close();
  }
}

async function checkVerify(path: string, signal?: AbortSignal): Promise<string | undefined> {
  const report = await verifyTensorFile(path, signal ? { signal } : {});
  if (!report.ok) {
    const first = report.problems[0]!;
    throw new TensioError(first.code, `verify: ${first.message}`);
  }
  return report.checksumsVerified > 0 ? `${report.checksumsVerified} checksum${report.checksumsVerified === 1 ? '' : 's'}` : undefined;
}

/**
 * Text formats (csv, txt) keep no dtype: the reader takes the one to read as (`dtype`
 * among its open options), so a one-tensor file is read back as the dtype it was written from.
 */
function typedReadOptions(formatName: string, held: readonly { dtype: string }[]): Record<string, unknown> | undefined {
  const format = BUILT_IN_FORMATS.find((candidate) => candidate.name === formatName);
  return format?.openOptionNames?.includes('dtype') && held.length === 1 ? { dtype: held[0]!.dtype } : undefined;
}

/** What happened to one format. */
interface FormatOutcome {
  format: string;
  ok: boolean;
  tensors: number;
  dtypes: string[];
  checksums?: string;
  convertedTo: string[];
  failures: string[];
}

function describeError(error: unknown): string {
  return isTensioError(error) ? `${error.code}: ${error.message}` : `INTERNAL: ${error instanceof Error ? error.message : String(error)}`;
}

/** Runs every step for every readable and writable format inside `folder`. */
async function runSelftest(folder: string, context: CliContext): Promise<FormatOutcome[]> {
  const signal = context.signal;
  const samples = cliSampleModel();
  const formats = BUILT_IN_FORMATS.filter((format) => format.open && format.createWriter);
  const written = new Map<string, { path: string; held: HeldSample[] }>();
  const outcomes: FormatOutcome[] = [];
  for (const format of formats) {
    const outcome: FormatOutcome = { format: format.name, ok: true, tensors: 0, dtypes: [], convertedTo: [], failures: [] };
    outcomes.push(outcome);
    const holdable = samples.filter((sample) => format.capabilities.dtypes.includes(sample.dtype) && !format.cannotWrite?.(sample));
    const path = join(folder, `model${format.extensions[0] ?? ''}`);
    try {
      const chosen = await writeSamples(format, path, holdable, signal);
      outcome.tensors = chosen.length;
      outcome.dtypes = [...new Set(chosen.map((sample) => sample.dtype))];
      const held = await checkReadBack(path, format.name, chosen, signal);
      const checksums = await checkVerify(path, signal);
      if (checksums) outcome.checksums = checksums;
      written.set(format.name, { path, held });
    } catch (error) {
      if (isTensioError(error, 'ABORTED')) throw error;
      outcome.ok = false;
      outcome.failures.push(`round trip: ${describeError(error)}`);
    }
  }
  // Conversions: every written format to every other format that wrote successfully,
  // as many tensors as the target held in its own round trip (one for .npy).
  for (const outcome of outcomes) {
    const source = written.get(outcome.format);
    if (!source) continue;
    for (const target of formats) {
      const targetWritten = written.get(target.name);
      if (target.name === outcome.format || !targetWritten) continue;
      const heldAll = targetWritten.held.length === samples.filter((sample) => target.capabilities.dtypes.includes(sample.dtype) && !target.cannotWrite?.(sample)).length;
      const chosen = source.held.filter(({ sample }) => target.capabilities.dtypes.includes(sample.dtype) && !target.cannotWrite?.(sample)).slice(0, heldAll ? undefined : targetWritten.held.length);
      if (chosen.length === 0) continue;
      const path = join(folder, `from-${outcome.format}-to-${target.name}${target.extensions[0] ?? ''}`);
      try {
        const readOptions = typedReadOptions(outcome.format, chosen.map(({ sample }) => sample));
        await convert(source.path, path, { to: target.name, tensors: chosen.map((entry) => entry.nameInFile), overwrite: true, ...(readOptions ? { readOptions } : {}), ...(signal ? { signal } : {}) });
        await checkReadBack(path, target.name, chosen.map(({ nameInFile, sample }) => ({ ...sample, name: nameInFile })), signal);
        await checkVerify(path, signal);
        outcome.convertedTo.push(target.name);
      } catch (error) {
        if (isTensioError(error, 'ABORTED')) throw error;
        outcome.ok = false;
        outcome.failures.push(`convert to ${target.name}: ${describeError(error)}`);
      }
    }
  }
  return outcomes;
}

/** The `selftest` subcommand. */
export const selftestCommand: CliCommand = {
  name: 'selftest',
  summary: 'write, read, convert and verify every format in a temporary folder',
  help: `Usage: tensio selftest [OPTIONS]

Checks this installation end to end in a temporary folder: for every registered
format that can both read and write, writes a small model of several dtypes
(those the format can hold), reads it back whole and as a row slice and compares
every byte, verifies it, converts it to every other such format and checks the
result the same way. Prints one PASS or FAIL line per format, and the reason for
every failure, then whether local files are read through memory mappings (the
optional native addon) or ordinary reads, and why (TENSIO_NO_MMAP=1 turns mapping off).

Options:
      --json      print one JSON object: {"ok", "formats": [{"format", "ok", "tensors",
                  "dtypes", "convertedTo", "failures"}], "memoryMap": {"enabled", "reason"}}
      --keep      keep the temporary folder and print its path
  -h, --help      show this help

Examples:
  tensio selftest
  tensio selftest --keep

Exit codes: 0 every check passed; 1 something failed; 2 usage error; 130 interrupted.
`,
  async run(args, context) {
    const { values, help } = cliParseArgs('selftest', args, { json: { type: 'boolean' }, keep: { type: 'boolean' } }, [0, 0]);
    if (help) {
      context.stdout(this.help);
      return 0;
    }
    const folder = await makeTemporaryFolder('tensio-selftest-');
    let outcomes: FormatOutcome[];
    try {
      outcomes = await runSelftest(folder, context);
    } finally {
      if (values.keep !== true) await removeLocalTree(folder);
    }
    const ok = outcomes.length > 0 && outcomes.every((outcome) => outcome.ok);
    const mapping = memoryMapStatus();
    if (values.json === true) {
      context.stdout(cliJson({ ok, ...(values.keep === true ? { folder } : {}), formats: outcomes, memoryMap: { enabled: mapping.enabled, reason: mapping.reason, hugePageBuffers: mapping.hugePageBuffers, hugePageReason: mapping.hugePageReason, populate: mapping.populate, populateReason: mapping.populateReason, ...(mapping.mappingAccounting ? { mappingAccounting: mapping.mappingAccounting } : {}) }, zstd: zstdDecoderStatus() }));
      return ok ? 0 : 1;
    }
    const width = Math.max(0, ...outcomes.map((outcome) => outcome.format.length));
    for (const outcome of outcomes) {
      const details = outcome.tensors > 0
        ? `${outcome.tensors} tensor${outcome.tensors === 1 ? '' : 's'} (${outcome.dtypes.join(', ')}) written, read back and verified${outcome.checksums ? ` (${outcome.checksums})` : ''}` +
          `${outcome.convertedTo.length > 0 ? `; converted to ${outcome.convertedTo.join(', ')}` : ''}`
        : 'nothing written';
      context.stdout(`${outcome.ok ? 'PASS' : 'FAIL'}  ${outcome.format.padEnd(width)}  ${details}\n`);
      for (const failure of outcome.failures) context.stdout(`      ${' '.repeat(width)}  ${failure}\n`);
    }
    if (outcomes.length === 0) context.stdout('FAIL  no format that can both read and write is registered\n');
    context.stdout(`memory mapping: ${mapping.enabled ? 'on' : 'off'} (${mapping.reason})\n`);
    if (mapping.mappingAccounting) {
      // Which V8 accounting a mapped buffer gets ('charged' by default, TENSIO_MMAP_COUNTED=1 opts out): it decides when mapped reads start collections.
      context.stdout(`mapped buffers: ${mapping.mappingAccounting === 'charged' ? 'charged 1 MiB plus page tables each, left out of V8\'s external count (the default; TENSIO_MMAP_COUNTED=1 counts them)' : `counted at their length in V8\'s external memory (${process.env.TENSIO_MMAP_COUNTED ? 'TENSIO_MMAP_COUNTED is set' : 'this addon cannot make the charged kind: rebuild it with npm run build:native'})`}\n`);
    }
    context.stdout(`huge-page buffers: ${mapping.hugePageBuffers ? 'on' : 'off'} (${mapping.hugePageReason})\n`);
    context.stdout(`fault-ahead (populate): ${mapping.populate === 'unavailable' ? 'off' : mapping.populate === 'populate' ? 'on' : 'advice only'} (${mapping.populateReason})\n`);
    context.stdout(`zstd decoding: ${zstdDecoderStatus().description}\n`);
    if (values.keep === true) context.stdout(`files kept in ${folder}\n`);
    const failed = outcomes.filter((outcome) => !outcome.ok).length;
    context.stdout(ok ? `selftest passed: ${outcomes.length} format${outcomes.length === 1 ? '' : 's'}\n` : `selftest FAILED: ${failed} of ${outcomes.length} formats\n`);
    if (!ok) {
      context.stderr(outcomes.length === 0
        ? 'tensio: SELFTEST_FAILED: no format that can both read and write is registered\n'
        : `tensio: SELFTEST_FAILED: ${failed} of ${outcomes.length} format${outcomes.length === 1 ? '' : 's'} failed\n`);
    }
    return ok ? 0 : 1;
  },
};
