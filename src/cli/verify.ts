/**
 * `tensio verify PATH`: structure plus every checksum the file carries. Exit 0 when
 * sound, 1 with the reasons when not.
 */
import { detectFormat, getFormat, verifyTensorFile } from '../operations/index.js';
import type { VerifyReport } from '../model/types.js';
import { cliParseArgs, cliRefuseIgnoredOptions } from './args.js';
import { cliFormatCount, cliJson } from './output.js';
import { cliProgressBar, cliProgressMode } from './progress.js';
import { CliUsageError, type CliCommand } from './types.js';
import { CLI_HEADER_HELP, CLI_HEADER_OPTION, cliHttpOptions } from './http-options.js';

/**
 * A verify report for people: one summary line, then one line per problem.
 *
 * @example
 * ```ts
 * io.stdout(cliVerifyText(await verifyTensorFile(path), 'model.safetensors'));
 * ```
 */
export function cliVerifyText(report: VerifyReport, path: string): string {
  const counts = `${cliFormatCount(report.tensors)} tensor${report.tensors === 1 ? '' : 's'}, ` +
    `${cliFormatCount(report.checksumsVerified)} checksum${report.checksumsVerified === 1 ? '' : 's'} verified, ` +
    `${cliFormatCount(report.withoutChecksum)} without checksum${report.withoutChecksum > 0 ? ' (checked by reading through)' : ''}` +
    `${report.checksumNote ? `\n  (${report.checksumNote})` : ''}`;
  const warnings = (report.warnings ?? []).map((warning) => `  warning: ${warning.message}\n`).join('');
  if (report.ok) return `OK ${path} (${report.format}): ${counts}\n${warnings}`;
  const problems = report.problems
    .map((problem) => `  ${problem.code}${problem.tensor !== undefined ? ` [${problem.tensors && problem.tensors.length > 1 ? `${problem.tensor} +${problem.tensors.length - 1}` : problem.tensor}]` : ''}: ${problem.message}\n`)
    .join('');
  return `FAILED ${path} (${report.format}): ${cliFormatCount(report.problems.length)} problem${report.problems.length === 1 ? '' : 's'}; ${counts}\n${problems}${warnings}`;
}

/** The `verify` subcommand. */
export const verifyCommand: CliCommand = {
  name: 'verify',
  summary: 'check structure and every checksum a file carries',
  help: `Usage: tensio verify PATH [OPTIONS]

Checks that a tensor file is sound: its structure (header, offsets, sizes, no
overlaps or trailing bytes, as each format defines them) and every checksum or digest
it carries, reading every tensor through to its last byte. Formats without checksums
are checked by reading everything. A sharded checkpoint (its index, its folder, or a
shard its index names) is checked as a set: every shard, the index against the
shards' tensors; shard files of the same prefix that the index does not name are
reported as warnings (they do not fail verify).

Arguments:
  PATH            the file or folder to verify, an http(s):// URL or s3://bucket/key

Options:
      --progress  print progress lines on stderr even when it is not a terminal
  -q, --quiet     print no progress
      --json      print the report as one JSON object: {"ok", "format", "path",
                  "tensors", "checksumsVerified", "withoutChecksum", "problems": [{"code",
                  "message", "tensor"?}], "warnings"?: [...]}
      --from FMT  skip format detection and verify as FMT
      --shard-only
                  PATH is one shard of a sharded checkpoint: verify that file alone
${CLI_HEADER_HELP}
  -h, --help      show this help

Examples:
  tensio verify model.safetensors
  tensio verify weights.npz --json | jq '.problems'

Exit codes: 0 sound; 1 not sound (the problems are printed) or unreadable; 2 usage
error; 130 interrupted.
`,
  async run(args, context) {
    const { values, positionals, help } = cliParseArgs('verify', args, { json: { type: 'boolean' }, from: { type: 'string' }, 'shard-only': { type: 'boolean' }, progress: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' }, ...CLI_HEADER_OPTION }, [1, 1]);
    if (values.progress === true && values.quiet === true) throw new CliUsageError('--progress and --quiet contradict each other; pass one', 'verify');
    if (help) {
      context.stdout(this.help);
      return 0;
    }
    const path = positionals[0]!;
    const shardOnly = values['shard-only'] === true;
    const resolved = context.resolvePath(path);
    const http = cliHttpOptions(values.header, resolved, context, 'verify');
    if (shardOnly) {
      const format = typeof values.from === 'string' ? getFormat(values.from) : await detectFormat(resolved, http ? { http } : {});
      cliRefuseIgnoredOptions(values, { 'shard-only': 'followIndex' }, format, path, 'verify');
    }
    const bar = cliProgressBar(context, 'verify', cliProgressMode(values));
    let report: VerifyReport;
    try {
      report = await verifyTensorFile(resolved, {
        ...(http ? { http } : {}),
        onProgress: (progress) => bar.update(progress),
        ...(typeof values.from === 'string' ? { format: values.from } : {}),
        ...(shardOnly ? { formatOptions: { followIndex: false } } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
      });
    } finally {
      bar.finish();
    }
    if (values.json === true) context.stdout(cliJson({ ...report, path }));
    else context.stdout(cliVerifyText(report, path));
    if (!report.ok) {
      const first = report.problems[0];
      context.stderr(`tensio: ${first?.code ?? 'INVALID_STATE'}: ${path} is not sound${first ? `: ${first.message}` : ''}\n`);
      return 1;
    }
    return 0;
  },
};
