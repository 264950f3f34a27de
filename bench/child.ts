/**
 * Child process for peak-RSS measurements (started by bench/lib/rss.ts):
 *
 *   node --expose-gc --import tsx bench/child.ts stream-write <format> <out> <totalMiB>
 *   node --expose-gc --import tsx bench/child.ts convert <input> <output> [<dtype to leave out>]
 *   node --expose-gc --import tsx bench/child.ts convert-columns <input> <output>   (tables: each column its own tensor, both sides)
 *   node --expose-gc --import tsx bench/child.ts verify <input>
 *   node --expose-gc --import tsx bench/child.ts open <input>   (open and list, no tensor data)
 *
 * Everything is imported first; then the RSS high-water mark is reset, the baseline RSS
 * taken, the operation run, and one JSON line printed: baseline, peak, peak - baseline.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { makeMixedTensors } from './lib/fixtures.js';
import { RAW_CHUNK_BYTES } from './lib/raw-fs.js';
import { collectGarbage } from './lib/timing.js';
import type { RssReport } from './lib/rss.js';

const tensio = await import('../src/index.js');

function statusBytes(field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!match) return field === 'VmRSS' ? process.memoryUsage().rss : process.resourceUsage().maxRSS * 1024;
  return Number(match[1]) * 1024;
}

function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Writes `totalMiB` of mixed tensors with the format's streaming writer, each tensor fed as views of one reused 8 MiB chunk. */
async function streamWrite(format: string, out: string, totalMiB: number): Promise<void> {
  // Only the plan is needed; the data comes from one reused chunk, so the writer's own memory is what is measured.
  const plan = makeMixedTensors(64 * 4096, 64).map((tensor, index) => ({ ...tensor, index }));
  const perTensor = Math.floor((totalMiB * 2 ** 20) / 64 / 4096) * 4096;
  const chunk = new Uint8Array(Math.min(RAW_CHUNK_BYTES, perTensor)).fill(0x3c);
  const specs = plan.map((tensor) => ({ name: tensor.name, dtype: tensor.dtype, shape: [perTensor / (tensor.dtype === 'float32' ? 4 : 2) / 1024, 1024] }));
  const writer = await tensio.getFormat(format).createWriter!(out, { tensors: specs, overwrite: true });
  try {
    for (const name of writer.order) {
      await writer.add(name, (function* () {
        for (let done = 0; done < perTensor; done += chunk.byteLength) yield chunk.subarray(0, Math.min(chunk.byteLength, perTensor - done));
      })());
    }
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Converts, leaving out tensors of one dtype (npz has no bfloat16); the listing is read before the baseline. */
let keep: string[] | undefined;
async function listKept(input: string, without: string | undefined): Promise<void> {
  if (!without) return;
  const reader = await tensio.openTensorFile(input);
  keep = reader.tensors.filter((info) => info.dtype !== without).map((info) => info.name);
  await reader.close();
}
function convertWithout(input: string, output: string, without: string | undefined): Promise<unknown> {
  return tensio.convert(input, output, { overwrite: true, ...(without ? { tensors: keep! } : {}) });
}

const [op, ...args] = process.argv.slice(2);
if (op === 'convert') await listKept(args[0]!, args[2]);
const operations: Record<string, () => Promise<unknown>> = {
  'stream-write': () => streamWrite(args[0]!, args[1]!, Number(args[2])),
  convert: () => convertWithout(args[0]!, args[1]!, args[2]),
  'convert-columns': () => tensio.convert(args[0]!, args[1]!, { overwrite: true, readOptions: { columns: 'separate' }, writeOptions: { columns: 'separate' } } as never),
  open: async () => {
    const reader = await tensio.openTensorFile(args[0]!);
    if (reader.tensors.length === 0 && args[1] !== 'empty-ok') throw new Error('no tensors');
    await reader.close();
  },
  verify: async () => {
    const report = await tensio.verifyTensorFile(args[0]!);
    if (!report.ok) throw new Error(`verify failed: ${JSON.stringify(report.problems)}`);
  },
};
const operation = operations[op ?? ''];
if (!operation) {
  console.error(`usage: child.ts stream-write <format> <out> <totalMiB> | convert <input> <output> [<dtype to leave out>] | convert-columns <input> <output> | verify <input> | open <input>`);
  process.exit(2);
}
collectGarbage();
const peakWasReset = resetPeak();
const baselineBytes = statusBytes('VmRSS');
const start = process.hrtime.bigint();
await operation();
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const peakBytes = statusBytes('VmHWM');
const report: RssReport = { baselineBytes, peakBytes, aboveBaselineBytes: peakBytes - baselineBytes, seconds, peakWasReset };
console.log(JSON.stringify(report));
