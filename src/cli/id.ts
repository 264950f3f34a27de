/**
 * `tensio id FILE`: the content id of the tensors a file holds (zTensor's content
 * digest, §6.4): identical tensors give the same id whatever the format, layout on
 * disk, compression or sharding.
 */
import { contentId } from '../operations/index.js';
import { cliParseArgs } from './args.js';
import { cliJson } from './output.js';
import { CliUsageError, type CliCommand } from './types.js';
import { CLI_HEADER_HELP, CLI_HEADER_OPTION, cliHttpOptions } from './http-options.js';

/** The `id` subcommand. */
export const idCommand: CliCommand = {
  name: 'id',
  summary: 'print the content id of the tensors a file holds',
  help: `Usage: tensio id FILE [OPTIONS]

Prints the content id of FILE's tensors: the hash of a canonical description of every
tensor (name, shape, type and the XXH3-64 of its bytes), as zTensor defines its
content digest. A .zt file whose parts carry digests is identified from its manifest
alone; any other file (safetensors, npz, .pt, ...) has its tensors read through. The
same tensors give the same id whatever the format, placement, compression or
sharding, so two files can be compared without moving them.

Arguments:
  FILE            the file to identify (a path or an http(s):// URL)

Options:
      --algo A    sha256 (default, as zTensor's 'zt id') or xxh3
      --json      print {"path", "id"}
${CLI_HEADER_HELP}
  -h, --help      show this help

Examples:
  tensio id model.zt
  [ "$(tensio id a.safetensors)" = "$(tensio id b.zt)" ] && echo same tensors

Exit codes: 0 printed; 1 unreadable, or a tensor zTensor cannot hold; 2 usage error.
`,
  async run(args, context) {
    const { values, positionals, help } = cliParseArgs('id', args, { algo: { type: 'string' }, json: { type: 'boolean' }, ...CLI_HEADER_OPTION }, [1, 1]);
    if (help) {
      context.stdout(this.help);
      return 0;
    }
    const algorithm = values.algo ?? 'sha256';
    if (algorithm !== 'sha256' && algorithm !== 'xxh3') throw new CliUsageError(`--algo takes sha256 or xxh3, got ${JSON.stringify(algorithm)}`, 'id');
    const path = positionals[0]!;
    const resolved = context.resolvePath(path);
    const http = cliHttpOptions(values.header, resolved, context, 'id');
    const id = await contentId(resolved, { algorithm, ...(http ? { http } : {}), ...(context.signal ? { signal: context.signal } : {}) });
    context.stdout(values.json === true ? cliJson({ path, id }) : `${id}\n`);
    return 0;
  },
};
