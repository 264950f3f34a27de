/**
 * What the table bench's old harness cost tensio's in-process Parquet read: the stacked
 * read of each file timed (wall and process CPU) right after one of three peers, rotated
 * in rounds in one process (`node --expose-gc --import tsx bench/fork-cost-ab.ts
 * [--rounds 7] file.parquet …`):
 *
 * - `fresh python`: pyarrow's read_table in a fresh Python process (the old harness's peer:
 *   a fork of this process before tensio's next read);
 * - `worker`: the same read in the long-lived Python worker (the harness since session 29);
 * - `nothing`: no peer at all.
 *
 * With `--warm` the free memory is warmed before each tensio read, as the bench does.
 * Not part of `npm run bench`: the measurement behind bench/README.md's session 29 note.
 */
import { AbArgs } from './lib/ab-rounds.js';
import { pyarrowOwnProcessSeconds } from './lib/own-process.js';
import { findOraclePython, PythonPeers } from './lib/python.js';
import { collectGarbage, median } from './lib/timing.js';
import { FreeMemoryWarmer } from './lib/warm-memory.js';
import { parquetOpen } from '../src/formats/parquet/index.js';

const args = new AbArgs();
const rounds = args.number('--rounds', 7);
const warm = args.flag('--warm');
const files = args.rest();
if (files.length === 0) throw new Error('name one or more .parquet files');
const { python, reason } = findOraclePython();
if (!python) throw new Error(reason);
const peers = await PythonPeers.start(python);
const warmer = new FreeMemoryWarmer(warm ? 512 * 2 ** 20 : 0);

/** The stacked read of every tensor; wall and process CPU (every thread) in ms. */
async function stackedRead(file: string): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const reader = await parquetOpen(file);
  try {
    for (const tensor of reader.tensors) await reader.read(tensor.name);
  } finally {
    await reader.close();
  }
  const cpu = process.cpuUsage(cpu0);
  return { wall: performance.now() - wall0, cpu: (cpu.user + cpu.system) / 1000 };
}

const peersBefore: Record<string, (file: string) => Promise<unknown>> = {
  'fresh python': (file) => pyarrowOwnProcessSeconds(python, file),
  worker: (file) => peers.time('pq.read_table', file),
  nothing: async () => undefined,
};
try {
  for (const file of files) {
    const names = Object.keys(peersBefore);
    const samples = new Map(names.map((name) => [name, [] as { wall: number; cpu: number }[]]));
    for (let round = 0; round <= rounds; round++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(round + i) % names.length]!;
        await peersBefore[name]!(file);
        collectGarbage();
        await warmer.warm();
        const sample = await stackedRead(file);
        if (round > 0) samples.get(name)!.push(sample); // round 0 warms up, untimed
      }
    }
    const line = names.map((name) => {
      const list = samples.get(name)!;
      return `${name}: wall ${median(list.map((s) => s.wall)).toFixed(0)} cpu ${median(list.map((s) => s.cpu)).toFixed(0)}`;
    }).join(' | ');
    console.log(`${file.split('/').pop()} stacked after ${line} ms (medians of ${rounds}${warm ? ', warmed' : ''})`);
  }
} finally {
  await peers.stop();
}
