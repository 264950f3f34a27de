/**
 * `tensio edit FILE --set KEY=VALUE --set-type KEY=TYPE --delete KEY [-o OUT]`: change a
 * file's metadata without touching its tensors, through the format's `editMetadata`
 * (GGUF typed keys, safetensors `__metadata__`). It says whether the edit happened in
 * place (only the header bytes rewritten) or through a rewrite of the whole file.
 */
import { recoverFilePatch } from '../storage/file-patch.js';
import { isRemoteLocation } from '../storage/source-input.js';
import { BUILT_IN_FORMATS, detectFormat, getFormat } from '../operations/index.js';
import { cliParseArgs } from './args.js';
import { cliFormatBytes, cliJson } from './output.js';
import { CliUsageError, type CliCommand } from './types.js';
import { TensioError } from '../core/errors.js';

/** `KEY=VALUE` pairs (split at the first `=`). */
function pairs(values: unknown, option: string): Array<[string, string]> {
  const list = Array.isArray(values) ? (values as string[]) : typeof values === 'string' ? [values] : [];
  return list.map((text) => {
    const at = text.indexOf('=');
    if (at <= 0) throw new CliUsageError(`${option} needs KEY=VALUE, got ${JSON.stringify(text)}`, 'edit');
    return [text.slice(0, at), text.slice(at + 1)];
  });
}

/** The `edit` subcommand. */
export const editCommand: CliCommand = {
  name: 'edit',
  summary: 'change metadata in place (GGUF keys, safetensors __metadata__)',
  help: `Usage: tensio edit FILE [--set KEY=VALUE]... [--set-type KEY=TYPE]... [--delete KEY]... [-o OUT]

Changes a file's metadata and keeps every tensor byte as it is. When the new header
fits where the old one was (GGUF: within the alignment padding before the first
tensor; safetensors: within the existing header, padded with spaces) only the header
is rewritten, in place, after checking the file did not change since it was read,
crash-safe: the old and new header go to a journal FILE.tensio-edit first, and the
file's first bytes are invalidated until the new header is whole, so a crash leaves
the old file, the new file, or one no reader accepts that the next 'tensio edit FILE'
(or --recover) finishes from the journal. Otherwise the whole file is rewritten (header, then the data streamed) to a
temporary file that replaces FILE (or becomes OUT) atomically. The output says which.
zTensor (.zt) attributes are always edited by rewrite: the file's bytes, then a new
generation (same blobs, new attributes), published atomically.

Formats: ${BUILT_IN_FORMATS.filter((format) => format.editMetadata).map((format) => format.name).join(', ')}.

Arguments:
  FILE            a local file

Options:
      --set KEY=VALUE
                  set KEY; GGUF: VALUE is parsed as KEY's current type (u32 stays
                  u32), a new key is a string unless --set-type gives its type;
                  arrays as JSON ('["a","b"]'); repeatable
      --set-type KEY=TYPE
                  GGUF: the value type of KEY (uint8, int8, uint16, int16, uint32,
                  int32, uint64, int64, float32, float64, bool, string, or
                  array:TYPE); zt: string, int, float, bool or json; with no
                  --set, KEY's value is converted; repeatable
      --delete KEY
                  remove KEY; repeatable
  -o, --output OUT
                  write the edited file to OUT and leave FILE as it is
      --recover   only finish an interrupted in-place edit of FILE from its
                  journal (every edit does this first anyway)
      --from FMT  skip format detection and edit as FMT
      --json      print {"mode": "in-place"|"rewrite", "output", "headerBytes":
                  {"before", "after"}, "changed"}
  -h, --help      show this help

Examples:
  tensio edit model.gguf --set general.name='Llama 3 8B'
  tensio edit model.gguf --set-type llama.context_length=uint64 --set llama.context_length=131072
  tensio edit model.gguf --delete general.url -o clean.gguf
  tensio edit model.safetensors --set format=pt
  tensio edit model.zt --set-type epoch=int --set epoch=12 --delete draft

Exit codes: 0 edited; 1 unreadable file, bad value or missing key; 2 usage error.
`,
  async run(args, context) {
    const { values, positionals, help } = cliParseArgs('edit', args, {
      set: { type: 'string', multiple: true },
      'set-type': { type: 'string', multiple: true },
      delete: { type: 'string', multiple: true },
      output: { type: 'string', short: 'o' },
      from: { type: 'string' },
      json: { type: 'boolean' },
      recover: { type: 'boolean' },
    }, [1, 1]);
    if (help) {
      context.stdout(this.help);
      return 0;
    }
    const file = positionals[0]!;
    if (isRemoteLocation(file)) throw new CliUsageError('edit changes local files only; download the file first', 'edit');
    const set = pairs(values.set, '--set');
    const types = pairs(values['set-type'], '--set-type');
    const deletes = Array.isArray(values.delete) ? (values.delete as string[]) : [];
    if (set.length + types.length + deletes.length === 0 && values.recover !== true) throw new CliUsageError('nothing to do: give --set, --set-type, --delete or --recover', 'edit');
    const path = context.resolvePath(file);
    // Before detection: an interrupted in-place edit leaves the file unreadable until finished.
    const recovered = await recoverFilePatch(path);
    if (set.length + types.length + deletes.length === 0) {
      const said = { none: 'no interrupted edit to finish', dropped: 'an edit interrupted before it changed the file was dropped', finished: 'finished an interrupted in-place edit from its journal' }[recovered];
      context.stdout(values.json === true ? cliJson({ recovered, output: file }) : `${file}: ${said}\n`);
      return 0;
    }
    const format = typeof values.from === 'string' ? getFormat(values.from) : await detectFormat(path);
    if (!format.editMetadata) {
      throw new TensioError('UNSUPPORTED_FEATURE', `tensio cannot edit ${format.name} metadata (it edits ${BUILT_IN_FORMATS.filter((f) => f.editMetadata).map((f) => f.name).join(', ')}); convert with --metadata to write a new file instead`);
    }
    const output = typeof values.output === 'string' ? context.resolvePath(values.output) : undefined;
    const result = await format.editMetadata(path, { set, types, delete: deletes }, { ...(output ? { output } : {}), ...(context.signal ? { signal: context.signal } : {}) });
    const shownOutput = output ? (values.output as string) : file;
    if (values.json === true) {
      context.stdout(cliJson({ ...result, output: shownOutput }));
    } else {
      const how = result.mode === 'in-place'
        ? `in place (the header fit in its ${cliFormatBytes(result.headerBytes.before)}; no tensor byte moved)`
        : `by rewriting the file (header ${cliFormatBytes(result.headerBytes.before)} → ${cliFormatBytes(result.headerBytes.after)}; data streamed unchanged)`;
      context.stdout(`edited ${shownOutput} (${format.name}) ${how}: ${result.changed.join(', ')}\n`);
    }
    return 0;
  },
};
