/**
 * What the first touch of a mapping costs (`node --expose-gc --import tsx
 * bench/first-touch-probe.ts FILE [--rounds 7]`): every tensor of FILE is read mapped
 * (`read()`), then all of them are summed twice with the 8-accumulator JS loop
 * (bench/lib/sum.ts); printed are the medians of the first and the second pass over the
 * same mappings (ms), the minor faults the first pass took, and the first-pass excess per
 * 4 KiB page. The difference is what touching freshly mapped pages costs the consumer
 * beyond the faults (the kernel maps a whole page-cache folio per fault), the cost behind
 * the swings of the mapped "+ sum" rows of bench/mmap.ts (bench/README.md, session 26).
 * Not part of `npm run bench`.
 */
import { readFileSync } from 'node:fs';
import { openTensorFile } from '../src/index.js';
import { sumFloat64Unrolled } from './lib/sum.js';

const argv = process.argv.slice(2);
const file = argv[0];
if (!file) throw new Error('usage: first-touch-probe.ts FILE [--rounds N]');
const roundsAt = argv.indexOf('--rounds');
const rounds = roundsAt >= 0 ? Number(argv[roundsAt + 1]) : 7;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
let sink = 0;
const first: number[] = [];
const second: number[] = [];
const faults: number[] = [];
let bytes = 0;
for (let round = 0; round <= rounds; round++) {
  // Untimed: the previous round's mappings collected and unmapped (finalizers run from the loop).
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  const reader = await openTensorFile(file);
  const views: Uint8Array[] = [];
  for (const info of reader.tensors) views.push((await reader.read(info.name)).data);
  bytes = views.reduce((sum, view) => sum + view.byteLength, 0);
  const faultsBefore = process.resourceUsage().minorPageFault;
  let start = performance.now();
  for (const view of views) sink += sumFloat64Unrolled(view);
  const firstPass = performance.now() - start;
  const taken = process.resourceUsage().minorPageFault - faultsBefore;
  start = performance.now();
  for (const view of views) sink += sumFloat64Unrolled(view);
  const secondPass = performance.now() - start;
  await reader.close();
  if (round === 0) continue; // warms the code and the page cache
  first.push(firstPass);
  second.push(secondPass);
  faults.push(taken);
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
const excess = median(first) - median(second);
console.log(`${file}: ${(bytes / 2 ** 20).toFixed(0)} MiB, ${rounds} rounds, load ${readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ')}`);
console.log(`first pass ${median(first).toFixed(1)} ms (${median(faults)} faults), second pass ${median(second).toFixed(1)} ms; first-touch excess ${(excess * 1e6 / (bytes / 4096)).toFixed(0)} ns per 4 KiB page`);
if (sink === 42) console.log('');
