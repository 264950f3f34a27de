/**
 * Child process for the huge-page buffer tests (test/hugepages.test.ts), so that another
 * environment (`TENSIO_NO_HUGEPAGES=1`) or `--expose-gc` stays out of the test runner.
 * Prints one JSON line.
 *
 * - `hashes FILE...`: sha256 of every tensor of every file read with `copy: true`, and
 *   whether its buffer is a huge-page buffer.
 * - `churn COUNT MIB`: allocates COUNT result buffers of MIB MiB through the read
 *   allocator, writes every byte of each and drops it, with no explicit collection; then
 *   collects. Reports resident memory (MiB) at the start, its peak during the churn and
 *   after the collection.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openTensorFile, isHugePageBuffer, memoryMapStatus } from '../../src/index.js';
import { allocateUninitialized } from '../../src/core/memory.js';

const [mode, ...args] = process.argv.slice(2);

/** Resident memory in MiB from /proc (process.memoryUsage().rss is the same number, read slower). */
function residentMiB(): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

const status = memoryMapStatus();
const out: Record<string, unknown> = { mode, hugePageBuffers: status.hugePageBuffers, hugePageReason: status.hugePageReason };
if (mode === 'hashes') {
  const files: Record<string, Record<string, { sha: string; huge: boolean }>> = {};
  for (const path of args) {
    await using reader = await openTensorFile(path);
    const tensors: Record<string, { sha: string; huge: boolean }> = {};
    for (const info of reader.tensors) {
      const tensor = await reader.read(info.name, { copy: true });
      tensors[info.name] = { sha: createHash('sha256').update(tensor.data).digest('hex'), huge: isHugePageBuffer(tensor.data) };
    }
    files[path] = tensors;
  }
  out.files = files;
} else if (mode === 'churn') {
  const count = Number(args[0]);
  const bytes = Number(args[1]) * 2 ** 20;
  const start = residentMiB();
  let peak = start;
  let huge = 0;
  for (let i = 0; i < count; i++) {
    const buffer = allocateUninitialized(bytes);
    if (isHugePageBuffer(buffer)) huge++;
    buffer.fill(i & 0xff);
    peak = Math.max(peak, residentMiB());
    // Let finalizers of collected buffers run, as they would between reads in a program.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  // A collected buffer's memory is given back by its finalizer, which runs on this thread
  // only after V8's sweeper (concurrent, on another thread) has freed its backing store,
  // and the addon keeps the range for reuse until its idle timer unmaps it (1-2 s,
  // huge-pages.ts KEPT_RANGE_IDLE_MS): collect and give the loop turns until resident
  // memory is back near the start, for at most 4 s, so a loaded machine's late sweeper is
  // not mistaken for memory kept.
  for (let attempt = 0; attempt < 200; attempt++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (residentMiB() - start < 64) break;
  }
  out.start = start;
  out.peak = peak;
  out.after = residentMiB();
  out.huge = huge;
  out.external = process.memoryUsage().external / 2 ** 20;
}
process.stdout.write(`${JSON.stringify(out)}\n`);
