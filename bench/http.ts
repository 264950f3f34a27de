/**
 * Remote reads over loopback HTTP: a static file server runs in its own process
 * (`lib/http-serve.ts`), and tensio reads from it by URL.
 *
 * - header-only `tensio inspect` of a multi-GB safetensors file (a sparse file: the
 *   header is real, the data a hole): requests and bytes on the wire (goal: ≤ 2 requests,
 *   ≤ header + 64 KiB);
 * - full read of one tensor of `--size-mib` MiB by URL (`reader.stream()`), against a
 *   plain Node `http.get` of the same bytes, consumed and dropped (goal ≥ 0.8x);
 * - `convert URL local.npy` against a plain GET piped into a file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, statSync, writeSync, ftruncateSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { throughput, type BenchContext, type Throughput } from './lib/context.js';
import { freshTarget } from './lib/raw-fs.js';
import { compareRow } from './lib/report.js';
import { runRounds, timeIt } from './lib/timing.js';
import type { BenchRow } from './lib/types.js';

const FORMAT = 'http';
const MiB = 2 ** 20;

/** Starts the file server child (also used by the zarr group); resolves with its base URL and a stop function. */
export async function startServer(dir: string): Promise<{ base: string; child: ChildProcess; stop: () => void }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'http-serve.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(line.trim()));
    child.once('exit', (code) => reject(new Error(`bench http server exited with ${code}`)));
  });
  return { base: `http://127.0.0.1:${port}`, child, stop: () => child.kill() };
}

export async function getJson(url: string): Promise<{ requests: number; bytes: number }> {
  const response = await fetch(url);
  return (await response.json()) as { requests: number; bytes: number };
}

/** A safetensors header for tensors of `count` × `bytesEach`, as bytes (8-byte length + JSON). */
function safetensorsHeader(specs: { name: string; dtype: string; shape: number[]; bytes: number }[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const spec of specs) {
    header[spec.name] = { dtype: spec.dtype, shape: spec.shape, data_offsets: [offset, offset + spec.bytes] };
    offset += spec.bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const bytes = new Uint8Array(8 + json.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(new TextEncoder().encode(json), 8);
  return bytes;
}

/** Writes a header and then a hole up to `dataBytes`: a multi-GB file that costs no disk. */
function writeSparseSafetensors(path: string, specs: Parameters<typeof safetensorsHeader>[0]): { headerBytes: number; fileBytes: number } {
  const header = safetensorsHeader(specs);
  const dataBytes = specs.reduce((sum, spec) => sum + spec.bytes, 0);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    ftruncateSync(fd, header.byteLength + dataBytes);
  } finally {
    closeSync(fd);
  }
  return { headerBytes: header.byteLength, fileBytes: header.byteLength + dataBytes };
}

/** A plain GET of the whole file, bytes consumed and dropped; seconds. */
function plainGet(url: string): Promise<number> {
  return timeIt(() => new Promise<void>((resolve, reject) => {
    http.get(url, (response) => {
      response.on('data', () => undefined);
      response.on('end', () => resolve());
      response.on('error', reject);
    }).on('error', reject);
  }));
}

/** A plain GET piped into a file; seconds. */
function plainGetToFile(url: string, path: string): Promise<number> {
  return timeIt(() => new Promise<void>((resolve, reject) => {
    http.get(url, (response) => {
      const out = createWriteStream(path);
      response.pipe(out);
      out.on('finish', () => resolve());
      out.on('error', reject);
      response.on('error', reject);
    }).on('error', reject);
  }));
}

function logFigures(log: (line: string) => void, label: string, figures: Record<string, Throughput>): void {
  for (const [name, figure] of Object.entries(figures)) {
    log(figure.error ? `  ${label} ${name}: failed: ${figure.error}` : `  ${label} ${name}: median ${figure.median!.toFixed(2)} GB/s, best ${figure.best!.toFixed(2)}, first ${figure.first!.toFixed(2)}`);
  }
}

/**
 * Runs the HTTP benchmark and returns its rows.
 *
 * @example
 * ```ts
 * const rows = await runHttpBench(context);
 * ```
 */
export async function runHttpBench(context: BenchContext): Promise<BenchRow[]> {
  const { dir, log, tensio } = context;
  const rows: BenchRow[] = [];
  const server = await startServer(dir);
  try {
    // --- header-only inspect of a multi-GB file -------------------------------------
    const layers = 2000;
    const specs = Array.from({ length: layers }, (_, index) => ({ name: `model.layers.${index}.mlp.weight`, dtype: 'BF16', shape: [1024, 2048], bytes: 1024 * 2048 * 2 }));
    const sparse = writeSparseSafetensors(join(dir, 'big.safetensors'), specs);
    log(`http: sparse safetensors of ${(sparse.fileBytes / 2 ** 30).toFixed(1)} GiB, header ${sparse.headerBytes} bytes, ${layers} tensors`);
    const { main } = await import('../src/cli/main.js');
    let printed = '';
    await getJson(`${server.base}/__reset`);
    const inspectSeconds = await timeIt(() => main(['inspect', `${server.base}/big.safetensors`, '--json'], {
      stdout: (text) => { printed += text; }, stderr: (text) => log(text.trimEnd()), isTTY: false, env: {}, cwd: dir,
    }));
    const cost = await getJson(`${server.base}/__stats`);
    const shown = JSON.parse(printed) as { tensors: unknown[] };
    const met = cost.requests <= 2 && cost.bytes <= sparse.headerBytes + 65536 && shown.tensors.length === layers;
    rows.push({
      format: FORMAT, operation: `inspect URL of a ${(sparse.fileBytes / 2 ** 30).toFixed(1)} GiB safetensors`, unit: 'ms', tensio: inspectSeconds * 1000,
      goal: '<= 2 req, <= header+64KiB', met,
      note: `inspect: ${cost.requests} requests, ${cost.bytes} bytes on the wire for a ${sparse.headerBytes}-byte header (${sparse.fileBytes} bytes in the file)`,
    });
    log(rows[rows.length - 1]!.note!);

    // --- full read: tensio stream() by URL vs a plain GET -----------------------------
    const tensorBytes = context.sizeMiB * MiB;
    const full = join(dir, 'full.safetensors');
    const fullSpecs = [{ name: 'weight', dtype: 'F32', shape: [tensorBytes / 4], bytes: tensorBytes }];
    const header = safetensorsHeader(fullSpecs);
    {
      // real bytes (not a hole) so the server reads them from the page cache like a model
      const fd = openSync(full, 'w');
      try {
        writeSync(fd, header);
        const block = new Uint8Array(8 * MiB).map((_, index) => index * 7);
        for (let done = 0; done < tensorBytes; done += block.byteLength) writeSync(fd, block, 0, Math.min(block.byteLength, tensorBytes - done));
      } finally {
        closeSync(fd);
      }
    }
    const fileBytes = statSync(full).size;
    const url = `${server.base}/full.safetensors`;
    const rounds = context.reps > 1 ? context.reps + 1 : 1;
    const readStats = { requests: 0, bytes: 0 };
    // Client CPU time per repetition: on a loaded 2-core machine it says more than wall time.
    const cpu: Record<string, number[]> = { plain: [], tensio: [] };
    const withCpu = async (name: string, run: () => Promise<number>): Promise<number> => {
      const before = process.cpuUsage();
      const seconds = await run();
      const used = process.cpuUsage(before);
      cpu[name]!.push((used.user + used.system) / 1000);
      return seconds;
    };
    const reads = await runRounds([
      { name: 'plain GET', run: () => withCpu('plain', () => plainGet(url)) },
      {
        name: 'tensio',
        before: async () => { await getJson(`${server.base}/__reset`); },
        run: async () => {
          const seconds = await withCpu('tensio', () => timeIt(async () => {
            await using reader = await tensio.openTensorFile(url);
            for await (const chunk of reader.stream('weight', { reuseBuffer: true })) void chunk;
          }));
          Object.assign(readStats, await getJson(`${server.base}/__stats`));
          return seconds;
        },
      },
    ], rounds);
    const cpuMedian = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1] ?? Number.NaN;
    const plain = throughput(reads.get('plain GET'), fileBytes);
    const mine = throughput(reads.get('tensio'), tensorBytes);
    logFigures(log, `http full read ${context.sizeMiB} MiB`, { tensio: mine, 'plain GET': plain });
    rows.push(compareRow(FORMAT, `read ${context.sizeMiB} MiB by URL (stream)`, mine.median, plain.median, 'plain http.get', 0.8,
      `tensio read: ${readStats.requests} requests, ${readStats.bytes} bytes (8 MiB chunks, keep-alive, 1 chunk read ahead); client CPU median ${cpuMedian(cpu.tensio!).toFixed(0)} ms (tensio) vs ${cpuMedian(cpu.plain!).toFixed(0)} ms (plain GET)`));

    // --- convert URL → local file ------------------------------------------------------
    const tensioOut = join(dir, 'converted.npy');
    const plainOut = join(dir, 'plain-get.bin');
    const converts = await runRounds([
      { name: 'plain GET > file', before: () => freshTarget(tensioOut, plainOut), run: () => plainGetToFile(url, plainOut) },
      { name: 'tensio convert', before: () => freshTarget(tensioOut, plainOut), run: () => timeIt(() => tensio.convert(url, tensioOut, { overwrite: true })) },
    ], rounds);
    const plainConvert = throughput(converts.get('plain GET > file'), fileBytes);
    const tensioConvert = throughput(converts.get('tensio convert'), tensorBytes);
    logFigures(log, `http convert ${context.sizeMiB} MiB`, { tensio: tensioConvert, 'plain GET > file': plainConvert });
    rows.push(compareRow(FORMAT, `convert URL -> local .npy ${context.sizeMiB} MiB`, tensioConvert.median, plainConvert.median, 'http.get piped to a file', undefined,
      'tensio convert fsyncs and renames its output; the plain GET does neither'));
  } finally {
    server.stop();
  }
  return rows;
}
