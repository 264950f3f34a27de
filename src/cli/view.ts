/**
 * `tensio view [PATH|URL]`: serves the web inspector (`dist/web/`, built by
 * `npm run build:browser`) from a static server on 127.0.0.1 and prints its address;
 * with a local PATH, that file or folder is served beside it and opened, with a URL
 * the page reads it remotely. Runs until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TensioError } from '../core/errors.js';
import { isHttpUrl } from '../storage/source-input.js';
import { localPathKind } from '../storage/local-paths.js';
import { startStaticServer, type StaticMount } from '../storage/static-server.js';
import { cliParseArgs } from './args.js';
import { cliJson } from './output.js';
import { CLI_EXIT, CliUsageError, type CliCommand } from './types.js';

/** Where the built inspector may be: beside the compiled CLI (dist/web) or, running from src/, in dist/web. */
async function findInspector(explicit: string | undefined): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = explicit ? [explicit] : [join(here, '..', 'web'), join(here, '..', '..', 'dist', 'web')];
  for (const candidate of candidates) {
    if ((await localPathKind(join(candidate, 'inspector', 'index.html'))) === 'file') return resolve(candidate);
  }
  throw new TensioError('NOT_FOUND', `the web inspector is not built (looked in ${candidates.join(', ')}); run \`npm run build:browser\` in the tensio checkout, or pass --bundle DIR`);
}

/** Opens `url` in the system's browser (best effort; the address is printed anyway). */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/** The `view` subcommand. */
export const viewCommand: CliCommand = {
  name: 'view',
  summary: 'open the web inspector on a file or URL (local server on 127.0.0.1)',
  help: `Usage: tensio view [PATH|URL] [OPTIONS]

Starts a static server on 127.0.0.1 for the web inspector and prints its address.
The inspector shows a file's format, metadata and tensor table from its header, and
per tensor (on request) statistics, a histogram, first values and a heat map, computed
in the page's Web Worker; it can verify the file and compare it with another. Without
PATH the page opens empty: drop a file on it or paste a URL. The server answers only
this machine and serves only the inspector and PATH. Stop it with Ctrl-C.

Arguments:
  PATH            a local tensor file, or a folder (NumPack store, Zarr group)
  URL             an http(s):// URL, read by the page with Range requests (the
                  server must allow it by CORS; Hugging Face's do)

Options:
      --port N    listen on port N (default: any free port)
      --open      also open the address in the system's browser
      --json      print {"url", "origin"} as one JSON line instead of text
      --bundle DIR
                  the built browser bundle (default: dist/web of this tensio)
  -h, --help      show this help

Examples:
  tensio view model.safetensors
  tensio view https://huggingface.co/org/model/resolve/main/model.safetensors.index.json --open

Exit codes: 0 never (it runs until stopped); 1 PATH missing or the inspector not
built; 2 usage error; 130 stopped with Ctrl-C.
`,
  async run(args, context) {
    const { values, positionals, help } = cliParseArgs('view', args, { port: { type: 'string' }, open: { type: 'boolean' }, json: { type: 'boolean' }, bundle: { type: 'string' } }, [0, 1]);
    if (help) {
      context.stdout(this.help);
      return 0;
    }
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliUsageError(`--port must be a port number from 0 to 65535, not ${String(values.port)}`, 'view');
    const bundle = await findInspector(typeof values.bundle === 'string' ? context.resolvePath(values.bundle) : undefined);
    const mounts: StaticMount[] = [];
    const target = positionals[0];
    let fileUrlPath: string | undefined;
    if (target !== undefined && !isHttpUrl(target)) {
      const path = context.resolvePath(target);
      const kind = await localPathKind(path);
      if (kind === 'missing') throw new TensioError('NOT_FOUND', `${target} does not exist; give a tensor file, a folder or an http(s) URL`);
      const name = encodeURIComponent(basename(path));
      fileUrlPath = kind === 'folder' ? `/files/${name}/` : `/files/${name}`;
      mounts.push({ prefix: kind === 'folder' ? `/files/${basename(path)}/` : `/files/${basename(path)}`, path });
    }
    mounts.push({ prefix: '/', path: bundle });
    const server = await startStaticServer(mounts, { port });
    try {
      const opened = target === undefined ? undefined : isHttpUrl(target) ? target : `${server.origin}${fileUrlPath}`;
      const url = `${server.origin}/inspector/${opened ? `?url=${encodeURIComponent(opened)}` : ''}`;
      if (values.json === true) context.stdout(cliJson({ url, origin: server.origin }));
      else context.stdout(`tensio inspector: ${url}\n(serving on 127.0.0.1 only; Ctrl-C stops it)\n`);
      if (values.open === true) openBrowser(url);
      await new Promise<void>((resolveStop) => {
        if (!context.signal) return; // no way to stop: run until the process ends
        if (context.signal.aborted) return resolveStop();
        context.signal.addEventListener('abort', () => resolveStop(), { once: true });
      });
      return CLI_EXIT.interrupted;
    } finally {
      await server.close();
    }
  },
};
