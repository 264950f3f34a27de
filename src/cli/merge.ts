/**
 * `tensio merge -o OUT A B …`: the tensors of several files (any readable formats) in one
 * output file; a name in two inputs is refused unless `--prefix`.
 */
import { TensioError } from '../core/errors.js';
import { mergeTensorFiles } from '../operations/index.js';
import { pathExists } from '../storage/atomic-file-sink.js';
import { cliParseArgs } from './args.js';
import { cliFormatBytes, cliFormatCount, cliJson } from './output.js';
import { CliUsageError, type CliCommand } from './types.js';

/** The `merge` subcommand. */
export const mergeCommand: CliCommand = {
  name: 'merge',
  summary: 'merge the tensors of several files into one',
  help: `Usage: tensio merge -o OUT INPUT... [OPTIONS]

Writes every tensor of every INPUT (any readable formats, mixed) into OUT, whose
extension picks the format. Tensors stream one at a time. Two inputs holding a tensor
of the same name are refused (DUPLICATE_NAME) unless --prefix names each tensor after
its file (a.safetensors's "w" becomes "a.w"). File metadata is kept, the first input
winning a key several inputs hold.

Options:
  -o, --output OUT  the merged file (required)
      --prefix      name tensors <input stem>.<name>
  -f, --force       replace OUT if it exists
      --json        print {"output", "format", "tensors", "bytes"}
  -h, --help        show this help

Examples:
  tensio merge -o model.zt encoder.safetensors decoder.safetensors
  tensio merge -o both.zt run1.npz run2.npz --prefix

Exit codes: 0 merged; 1 bad input, a name clash, or OUT exists; 2 usage error.
`,
  async run(args, context) {
    const { values, positionals, help } = cliParseArgs('merge', args, {
      output: { type: 'string', short: 'o' },
      prefix: { type: 'boolean' },
      force: { type: 'boolean', short: 'f' },
      json: { type: 'boolean' },
    }, [1, Infinity]);
    if (help) {
      context.stdout(this.help);
      return 0;
    }
    if (typeof values.output !== 'string') throw new CliUsageError('merge needs -o OUT', 'merge');
    const output = context.resolvePath(values.output);
    const inputs = positionals.map((input) => context.resolvePath(input));
    if (inputs.includes(output)) throw new TensioError('INVALID_ARGUMENT', `OUT ${values.output} is also an input; write to another file`);
    const force = values.force === true;
    if (!force && (await pathExists(output))) throw new TensioError('ALREADY_EXISTS', `${values.output} already exists; pass --force to replace it`, { path: output });
    const result = await mergeTensorFiles(inputs, output, { overwrite: force, ...(values.prefix === true ? { prefix: true } : {}), ...(context.signal ? { signal: context.signal } : {}) });
    if (values.json === true) context.stdout(cliJson({ output: values.output, format: result.outputFormat, tensors: result.tensors, bytes: result.bytes }));
    else context.stdout(`${positionals.length} file${positionals.length === 1 ? '' : 's'} -> ${values.output}: ${cliFormatCount(result.tensors)} tensor${result.tensors === 1 ? '' : 's'}, ${cliFormatBytes(result.bytes)} (${result.outputFormat})\n`);
    return 0;
  },
};
