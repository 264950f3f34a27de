/**
 * Parquet reads, A/B in one process (`node --expose-gc --import tsx bench/parquet-read-ab.ts
 * --a /work/main --b . [--rounds 5] file.parquet …`): tensio's Parquet reader from two
 * checkouts (`--a`, `--b`: a repository root each; the same root twice measures noise),
 * each read stacked (one `(rows, columns)` tensor) and columnar (`columns: 'separate'`,
 * every column tensor in turn), every round running each contender once in rotating
 * order after one untimed warm-up round (`lib/ab-rounds.ts`). Printed: medians of wall
 * time, process CPU time (every thread: libuv's snappy and zstd decodes count) and the
 * JavaScript thread's own CPU (`/proc/self/task/<pid>/schedstat`). `--modes stacked`
 * or `--modes columnar` takes one of the two; `--modes stream` reads the stacked tensor
 * with `stream()` instead (each piece dropped: what `convert` does). `--format arrow`
 * reads Arrow IPC / Feather files with the Arrow reader instead (the same modes).
 * Not part of `npm run bench`: a focused measurement for bench/README.md.
 */
import { resolve } from 'node:path';
import { abMedians, abRounds, AbArgs } from './lib/ab-rounds.js';

const args = new AbArgs();
const rounds = args.number('--rounds', 5);
const roots = { A: resolve(args.string('--a', '.')), B: resolve(args.string('--b', '.')) };
const modes = args.string('--modes', 'stacked,columnar').split(',');
const format = args.string('--format', 'parquet');
const files = args.rest();
if (format !== 'parquet' && format !== 'arrow') throw new Error(`--format: "${format}" is not parquet or arrow`);
for (const mode of modes) if (mode !== 'stacked' && mode !== 'columnar' && mode !== 'stream') throw new Error(`--modes: "${mode}" is not stacked, columnar or stream`);
if (files.length === 0) throw new Error(`name one or more ${format === 'arrow' ? '.feather / .arrow' : '.parquet'} files`);

type Open = (path: string, options?: object) => Promise<{ tensors: { name: string }[]; read(name: string): Promise<{ data: Uint8Array }>; stream(name: string): AsyncIterable<Uint8Array>; close(): Promise<void> }>;
const opens: Record<string, Open> = {};
for (const [label, root] of Object.entries(roots)) opens[label] = ((await import(`${root}/src/formats/${format}/index.ts`)) as Record<string, Open>)[`${format}Open`]!;

/** Opens the file, reads (or streams) every tensor, closes; the bytes read. */
async function readAll(open: Open, file: string, mode: string): Promise<number> {
  const reader = await open(file, mode === 'columnar' ? { formatOptions: { columns: 'separate' } } : {});
  let bytes = 0;
  try {
    for (const tensor of reader.tensors) {
      if (mode === 'stream') for await (const piece of reader.stream(tensor.name)) bytes += piece.byteLength;
      else bytes += (await reader.read(tensor.name)).data.byteLength;
    }
  } finally {
    await reader.close();
  }
  return bytes;
}

for (const file of files) {
  for (const mode of modes) {
    const labels = Object.keys(opens);
    const samples = await abRounds({
      names: labels,
      rounds,
      run: (label) => readAll(opens[label]!, file, mode),
      after: (label, _group, bytes) => {
        if (bytes === 0) throw new Error(`${label}: read nothing`);
      },
    });
    const line = labels.map((label) => {
      const m = abMedians(samples.get(label)!);
      return `${label} wall ${m.wall.toFixed(0)} cpu ${m.cpu.toFixed(0)} js ${m.js.toFixed(0)}`;
    }).join(' | ');
    console.log(`${file.split('/').pop()} ${mode}: ${line} ms (medians of ${rounds})`);
  }
}
