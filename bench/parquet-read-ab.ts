/**
 * Parquet reads, A/B in one process (`node --expose-gc --import tsx bench/parquet-read-ab.ts
 * --a /work/main --b . [--rounds 5] file.parquet …`): tensio's Parquet reader from two
 * checkouts (`--a`, `--b`: a repository root each; the same root twice measures noise),
 * each read stacked (one `(rows, columns)` tensor) and columnar (`columns: 'separate'`,
 * every column tensor in turn), every round running each contender once in rotating
 * order. Printed: medians of wall time, process CPU time (every thread: libuv's snappy
 * and zstd decodes count) and the JavaScript thread's own CPU (`/proc/self/task/<pid>/schedstat`).
 * Not part of `npm run bench`: a focused measurement for bench/README.md.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = argv.indexOf(name);
  if (at < 0) return fallback;
  const value = argv[at + 1]!;
  argv.splice(at, 2);
  return value;
};
const rounds = Number(option('--rounds', '5'));
const roots = { A: resolve(option('--a', '.')), B: resolve(option('--b', '.')) };
const modes = option('--modes', 'stacked,columnar').split(',');
const files = argv;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

type Open = (path: string, options?: object) => Promise<{ tensors: { name: string }[]; read(name: string): Promise<{ data: Uint8Array }>; close(): Promise<void> }>;
const opens: Record<string, Open> = {};
for (const [label, root] of Object.entries(roots)) opens[label] = ((await import(`${root}/src/formats/parquet/index.ts`)) as { parquetOpen: Open }).parquetOpen;

/** CPU nanoseconds of this (JavaScript) thread so far. */
function threadCpu(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

async function once(open: Open, file: string, mode: string): Promise<{ wall: number; cpu: number; js: number }> {
  gc!();
  const cpu0 = process.cpuUsage();
  const js0 = threadCpu();
  const t0 = performance.now();
  const reader = await open(file, mode === 'columnar' ? { formatOptions: { columns: 'separate' } } : {});
  let bytes = 0;
  try {
    for (const tensor of reader.tensors) bytes += (await reader.read(tensor.name)).data.byteLength;
  } finally {
    await reader.close();
  }
  const wall = performance.now() - t0;
  const used = process.cpuUsage(cpu0);
  if (bytes === 0) throw new Error('read nothing');
  return { wall, cpu: (used.user + used.system) / 1000, js: (threadCpu() - js0) / 1e6 };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
for (const file of files) {
  for (const mode of modes) {
    const results: Record<string, { wall: number; cpu: number; js: number }[]> = { A: [], B: [] };
    const labels = Object.keys(opens);
    // One warm-up each, then rounds in rotating order.
    for (const label of labels) await once(opens[label]!, file, mode);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? labels : [...labels].reverse();
      for (const label of order) results[label]!.push(await once(opens[label]!, file, mode));
    }
    const line = labels.map((label) => {
      const r = results[label]!;
      return `${label} wall ${median(r.map((x) => x.wall)).toFixed(0)} cpu ${median(r.map((x) => x.cpu)).toFixed(0)} js ${median(r.map((x) => x.js)).toFixed(0)}`;
    }).join(' | ');
    console.log(`${file.split('/').pop()} ${mode}: ${line} ms (medians of ${rounds})`);
  }
}
