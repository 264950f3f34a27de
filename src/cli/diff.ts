/**
 * `tensio diff A B`: what differs between two tensor files of any formats. Exit 0
 * identical, 1 different, 2 usage.
 */
import { diffTensorFiles, type DiffReport } from '../operations/index.js';
import { cliParseArgs } from './args.js';
import { cliFormatCount, cliFormatShape, cliJson } from './output.js';
import { cliProgressBar } from './progress.js';
import { CliUsageError, type CliCommand } from './types.js';

function parseTolerance(text: string | boolean | string[] | undefined, option: string): number | undefined {
  if (typeof text !== 'string') return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new CliUsageError(`${option} needs a number >= 0 such as 1e-6, got ${JSON.stringify(text)}`, 'diff');
  }
  return value;
}

function formatValue(value: number | string): string {
  return typeof value === 'number' ? String(value) : value;
}

/**
 * A diff report for people: one line per difference, then a summary line.
 *
 * @example
 * ```ts
 * io.stdout(cliDiffText(await diffTensorFiles(a, b), a, b));
 * ```
 */
export function cliDiffText(report: DiffReport, pathA: string, pathB: string): string {
  const lines = [
    `--- ${pathA} (${report.a.format}, ${cliFormatCount(report.a.tensors)} tensors)`,
    `+++ ${pathB} (${report.b.format}, ${cliFormatCount(report.b.tensors)} tensors)`,
  ];
  for (const t of report.removed) lines.push(`- ${t.name}  ${t.dtype} ${cliFormatShape(t.shape)}  (only in A)`);
  for (const t of report.added) lines.push(`+ ${t.name}  ${t.dtype} ${cliFormatShape(t.shape)}  (only in B)`);
  for (const t of report.changedSpec) {
    const changes = [
      ...(t.a.dtype !== t.b.dtype ? [`dtype ${t.a.dtype} -> ${t.b.dtype}`] : []),
      ...(cliFormatShape(t.a.shape) !== cliFormatShape(t.b.shape) ? [`shape ${cliFormatShape(t.a.shape)} -> ${cliFormatShape(t.b.shape)}`] : []),
    ];
    lines.push(`~ ${t.name}  ${changes.join(', ')}`);
  }
  for (const t of report.changedContent) {
    const where = t.at.coordinates.length > 0 ? `[${t.at.coordinates.join(', ')}] (flat ${t.at.index})` : `byte ${t.at.index}`;
    const largest = t.maxAbsDiff !== undefined ? `largest |a-b| ${t.maxAbsDiff} at ${where}` : `first at ${where}`;
    lines.push(`! ${t.name}  ${t.dtype} ${cliFormatShape(t.shape)}: ${cliFormatCount(t.elementsDiffering)} of ${cliFormatCount(t.elements)} differ; ${largest}: a=${formatValue(t.at.a)} b=${formatValue(t.at.b)}`);
  }
  const differing = report.removed.length + report.added.length + report.changedSpec.length + report.changedContent.length;
  const tolerance = report.atol > 0 || report.rtol > 0 ? ` (floats within atol ${report.atol}, rtol ${report.rtol})` : '';
  lines.push(report.identical
    ? `identical: ${cliFormatCount(report.same)} tensor${report.same === 1 ? '' : 's'}${tolerance}`
    : `different: ${cliFormatCount(differing)} difference${differing === 1 ? '' : 's'}, ${cliFormatCount(report.same)} tensor${report.same === 1 ? '' : 's'} equal${tolerance}`);
  return `${lines.join('\n')}\n`;
}

/** The `diff` subcommand. */
export const diffCommand: CliCommand = {
  name: 'diff',
  summary: 'compare the tensors of two files of any formats',
  help: `Usage: tensio diff A B [OPTIONS]

Compares the tensors of A and B, which may be in different formats: tensors only in
A (-), only in B (+), with another dtype or shape (~), and with other content (!),
giving for each the number of differing elements and the largest difference with
its place (coordinates and flat index) and both values. Content is compared
exactly (byte for byte) unless --atol/--rtol allow float differences: a and b are
equal when |a - b| <= atol + rtol * |b| (numpy's allclose; NaN equals NaN).
Integer and other tensors are always compared exactly. Metadata is not compared.
Both files stream side by side, one chunk of each in memory.

Arguments:
  A, B                the files or folders to compare (paths, http(s):// or s3:// URLs)

Options:
      --atol X        absolute tolerance for float tensors (default 0)
      --rtol X        relative tolerance for float tensors (default 0)
      --from-a FMT    read A as FMT (default: detected)
      --from-b FMT    read B as FMT (default: detected)
      --json          print the report as one JSON object: {"identical", "a", "b",
                      "atol", "rtol", "added", "removed", "changedSpec",
                      "changedContent": [{"name", "dtype", "shape",
                      "elementsDiffering", "elements", "maxAbsDiff", "at": {"index",
                      "coordinates", "a", "b"}}], "same"}
  -h, --help          show this help

Examples:
  tensio diff pytorch_model.bin model.safetensors
  tensio diff model-f32.safetensors model-f16.safetensors --atol 1e-3 --rtol 1e-3
  tensio diff a.npz b.npz --json | jq '.changedContent'

Exit codes: 0 identical; 1 different (or a file is unreadable); 2 usage error;
130 interrupted.
`,
  async run(args, context) {
    const { values, positionals, help } = cliParseArgs('diff', args, {
      atol: { type: 'string' },
      rtol: { type: 'string' },
      'from-a': { type: 'string' },
      'from-b': { type: 'string' },
      json: { type: 'boolean' },
    }, [2, 2]);
    if (help) {
      context.stdout(this.help);
      return 0;
    }
    const [pathA, pathB] = positionals as [string, string];
    const atol = parseTolerance(values.atol, '--atol');
    const rtol = parseTolerance(values.rtol, '--rtol');
    const bar = cliProgressBar(context, 'diff');
    let report: DiffReport;
    try {
      report = await diffTensorFiles(context.resolvePath(pathA), context.resolvePath(pathB), {
        ...(atol !== undefined ? { atol } : {}),
        ...(rtol !== undefined ? { rtol } : {}),
        ...(typeof values['from-a'] === 'string' ? { openA: { format: values['from-a'] } } : {}),
        ...(typeof values['from-b'] === 'string' ? { openB: { format: values['from-b'] } } : {}),
        onProgress: (progress) => bar.update(progress),
        ...(context.signal ? { signal: context.signal } : {}),
      });
    } finally {
      bar.finish();
    }
    if (values.json === true) context.stdout(cliJson({ ...report, a: { ...report.a, path: pathA }, b: { ...report.b, path: pathB } }));
    else context.stdout(cliDiffText(report, pathA, pathB));
    return report.identical ? 0 : 1;
  },
};
