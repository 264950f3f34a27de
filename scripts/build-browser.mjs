#!/usr/bin/env node
/**
 * Builds the browser bundle (`npm run build:browser` → dist/web/): one ESM entry
 * (`tensio.js`, from src/browser/index.ts), the web inspector (`inspector/`: page,
 * styles, app and its Web Worker), code-split so each heavy format library is its own
 * chunk, loaded only when its format is opened.
 *
 * The sources are tensio's own; Node built-ins and native addons are mapped to browser
 * stand-ins in src/browser/ (see `STAND_INS`): `node:http(s)` becomes fetch,
 * `node:zlib` fflate (and a JavaScript brotli decoder), `node:path` a POSIX path module,
 * `node:crypto` a streaming SHA-256, `@mongodb-js/zstd` fzstd and zstd-wasm, `lz4-napi`
 * an LZ4 frame decoder, `@node-rs/xxhash` XXH3/XXH64 in TypeScript (Parquet's snappy
 * pages use hysnappy's WebAssembly: tensio's native addon is absent), and what has no
 * stand-in (files, sockets, HDF5's Node build) throws `UNSUPPORTED_FEATURE` when called.
 * The build fails if anything else from Node slips in.
 *
 * Prints the size of every output file and, with --metafile, writes esbuild's meta.
 */
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, statSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHIMS = join(ROOT, 'src', 'browser');

/** Module name → the file that stands in for it in the browser. */
const STAND_INS = {
  'node:path': 'node/path.ts',
  path: 'node/path.ts',
  'node:zlib': 'node/zlib.ts',
  'node:stream': 'node/stream.ts',
  'node:crypto': 'node/crypto.ts',
  'node:util': 'node/util.ts',
  'node:http': 'node/http.ts',
  'node:https': 'node/http.ts',
  '@mongodb-js/zstd': 'native/zstd.ts',
  '@mongodb-js/zstd/bindings': 'native/zstd.ts',
  '@mongodb-js/zstd/bindings.js': 'native/zstd.ts',
  '@node-rs/crc32': 'native/crc32.ts',
  'lz4-napi': 'native/lz4.ts',
  '@node-rs/xxhash': 'native/xxhash.ts',
};

/** Modules with no stand-in: every export throws UNSUPPORTED_FEATURE when called. */
const UNAVAILABLE = /^(node:)?(fs|fs\/promises|os|url|module|child_process|worker_threads|net|tls|readline|events|buffer)$|^@aws-sdk\/|^h5wasm\/node$/;

const standIns = {
  name: 'tensio-browser-stand-ins',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.path === 'buffer' && args.importer.endsWith(join('browser', 'node', 'globals.ts'))) return undefined;
      if (Object.hasOwn(STAND_INS, args.path)) return { path: join(SHIMS, STAND_INS[args.path]) };
      if (UNAVAILABLE.test(args.path)) return { path: args.path, namespace: 'unavailable' };
      if (args.path.startsWith('node:')) return { errors: [{ text: `${args.path} has no browser stand-in (imported by ${relative(ROOT, args.importer)}); add one in scripts/build-browser.mjs` }] };
      return undefined;
    });
    b.onLoad({ filter: /.*/, namespace: 'unavailable' }, (args) => {
      if (args.path.startsWith('@aws-sdk/')) {
        // S3 from a page would need credentials in the page and CORS on the bucket: the
        // SDK is not bundled; loading it (tensio does so lazily) fails with this error.
        return {
          contents: `import { TensioError } from ${JSON.stringify(join(ROOT, 'src', 'core', 'errors.ts'))};\nthrow new TensioError('UNSUPPORTED_FEATURE', ${JSON.stringify(`${args.path} is not bundled in the browser build: s3:// inputs and outputs need Node (use an https:// URL, e.g. a presigned one)`)});\n`,
          resolveDir: SHIMS,
          loader: 'js',
        };
      }
      const names = [...(importedNames().get(args.path.replace(/^node:/, '')) ?? [])];
      const lines = [`import { unavailable, unavailableModule } from ${JSON.stringify(join(SHIMS, 'node', 'unavailable.ts'))};`];
      for (const name of names) lines.push(`export const ${name} = unavailable(${JSON.stringify(args.path)}, ${JSON.stringify(name)});`);
      lines.push(`export default unavailableModule(${JSON.stringify(args.path)});`);
      return { contents: lines.join('\n'), resolveDir: SHIMS, loader: 'js' };
    });
  },
};

let namesCache;
/**
 * The names tensio's sources import from each module (`import { open, stat } from
 * 'node:fs/promises'` → fs/promises: open, stat), so a stand-in module can export each.
 */
function importedNames() {
  if (namesCache) return namesCache;
  namesCache = new Map();
  const files = walk(join(ROOT, 'src')).filter((file) => file.endsWith('.ts'));
  const pattern = /import\s+(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*'([^']+)'/g;
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(pattern)) {
      const module = match[2].replace(/^node:/, '');
      const set = namesCache.get(module) ?? new Set();
      for (const part of match[1].split(',')) {
        const name = part.trim().replace(/^type\s+.*/, '').split(/\s+as\s+/)[0].trim();
        if (/^[A-Za-z_$][\w$]*$/.test(name) && name !== 'default') set.add(name);
      }
      namesCache.set(module, set);
    }
  }
  return namesCache;
}

const args = new Set(process.argv.slice(2));
const outdirArg = process.argv.slice(2).find((arg) => arg.startsWith('--outdir='));
/** Where the bundle goes (default dist/web; tests build into a temporary folder). */
const OUT = outdirArg ? resolve(outdirArg.slice('--outdir='.length)) : join(ROOT, 'dist', 'web');
rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, 'inspector'), { recursive: true });

const entryPoints = { tensio: join(ROOT, 'src', 'browser', 'index.ts') };
const inspectorDir = join(ROOT, 'src', 'browser', 'inspector');
let hasInspector = false;
try {
  hasInspector = statSync(join(inspectorDir, 'app.ts')).isFile();
} catch {}
if (hasInspector) {
  entryPoints['inspector/app'] = join(inspectorDir, 'app.ts');
  entryPoints['inspector/worker'] = join(inspectorDir, 'worker.ts');
}

const result = await build({
  entryPoints,
  outdir: OUT,
  bundle: true,
  format: 'esm',
  splitting: true,
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16.4'],
  chunkNames: 'chunks/[name]-[hash]',
  minify: !args.has('--no-minify'),
  sourcemap: args.has('--sourcemap'),
  inject: [join(SHIMS, 'node', 'globals.ts')],
  define: { global: 'globalThis' },
  plugins: [standIns],
  metafile: true,
  logLevel: 'warning',
  legalComments: 'linked',
});

if (hasInspector) {
  for (const file of ['index.html', 'inspector.css']) copyFileSync(join(inspectorDir, file), join(OUT, 'inspector', file));
}
// zstd-wasm finds its WebAssembly at `new URL('./zstd.wasm', import.meta.url)`: put it
// beside every output that holds that code (a chunk), so zstd compression works in a page.
const zstdWasm = join(ROOT, 'node_modules', '@bokuweb', 'zstd-wasm', 'dist', 'web', 'zstd.wasm');
for (const output of Object.keys(result.metafile.outputs).filter((path) => path.endsWith('.js'))) {
  if (readFileSync(resolve(output), 'utf8').includes('zstd.wasm')) copyFileSync(zstdWasm, join(dirname(resolve(output)), 'zstd.wasm'));
}
if (args.has('--metafile')) writeFileSync(join(OUT, 'meta.json'), JSON.stringify(result.metafile));

function walk(folder) {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
const files = walk(OUT).filter((file) => !file.endsWith('meta.json'));
let total = 0;
for (const file of files) total += statSync(file).size;
console.log(`${relative(ROOT, OUT) || OUT}: ${files.length} files, ${(total / 1024).toFixed(1)} KiB`);

/** An output and every chunk it imports statically: what a page loads before its first dynamic import. */
function staticClosure(output) {
  const seen = new Set();
  const visit = (path) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const item of result.metafile.outputs[path]?.imports ?? []) if (item.kind === 'import-statement') visit(item.path);
  };
  visit(output);
  return [...seen];
}
const kib = (paths) => {
  const bytes = paths.reduce((sum, path) => sum + statSync(resolve(path)).size, 0);
  const gzipped = paths.reduce((sum, path) => sum + gzipSync(readFileSync(resolve(path))).byteLength, 0);
  return `${(bytes / 1024).toFixed(1)} KiB (${(gzipped / 1024).toFixed(1)} KiB gzipped)`;
};
const entryOutput = Object.keys(result.metafile.outputs).find((path) => path.endsWith('/tensio.js') || path === 'tensio.js');
if (entryOutput) console.log(`tensio.js and its static imports (all a page loads to open safetensors, npy, npz, gguf): ${kib(staticClosure(entryOutput))}`);
const everything = Object.keys(result.metafile.outputs).filter((path) => path.endsWith('.js'));
console.log(`all JavaScript: ${kib(everything)}`);
