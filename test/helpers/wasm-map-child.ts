/**
 * Child process for test/mmap-wasm.test.ts: what may kill a process (SIGBUS), needs
 * `--expose-gc` or another environment (`TENSIO_NO_MMAP=1`) stays out of the runner.
 * Prints one JSON line.
 *
 * - `hash FILE NAME`: places NAME in a fresh WebAssembly memory; sha256 of its bytes there, and whether it was mapped.
 * - `truncate FILE NAME`: places NAME, truncates the file to half the tensor, then sums the tensor's bytes in the memory.
 * - `dropped FILE NAME`: places NAME and drops the result without release(); after collections, the live
 *   mappings are back to what they were and the region reads as zeros (the finalizer put zero pages back).
 */
import { createHash } from 'node:crypto';
import { truncateSync } from 'node:fs';
import { memoryMapStatus, openTensorFile } from '../../src/index.js';
import { readIntoWasmMemory } from '../../src/io/index.js';
import { byteSum, collectWithTurns as collect, newWasmMemory } from './child-memory.js';

const [mode, path, name] = process.argv.slice(2) as [string, string, string];


const out: Record<string, unknown> = { mode, mapping: memoryMapStatus().enabled };
const memory = newWasmMemory();
const reader = await openTensorFile(path);
if (mode === 'hash') {
  const placed = await readIntoWasmMemory(reader, name, memory);
  out.mapped = placed.mapped;
  out.sha = createHash('sha256').update(new Uint8Array(memory.buffer, placed.pointer, placed.byteLength)).digest('hex');
} else if (mode === 'truncate') {
  const placed = await readIntoWasmMemory(reader, name, memory);
  out.mapped = placed.mapped;
  out.before = byteSum(new Uint8Array(memory.buffer, placed.pointer, 4096));
  const offset = (reader.info(name).extras?.dataOffset as number | undefined) ?? 0;
  truncateSync(path, offset + Math.floor(placed.byteLength / 2));
  out.sum = byteSum(new Uint8Array(memory.buffer, placed.pointer, placed.byteLength));
  out.faulted = placed.faulted();
  placed.release();
} else if (mode === 'dropped') {
  await collect();
  const baseline = memoryMapStatus().liveMappings ?? 0;
  let placed = await readIntoWasmMemory(reader, name, memory);
  const region = placed.region;
  out.mapped = placed.mapped;
  out.liveWhileHeld = (memoryMapStatus().liveMappings ?? 0) - baseline;
  out.sumWhileHeld = byteSum(new Uint8Array(memory.buffer, placed.pointer, placed.byteLength));
  placed = undefined as unknown as typeof placed;
  await collect();
  out.liveAfterDrop = (memoryMapStatus().liveMappings ?? 0) - baseline;
  out.regionSumAfterDrop = byteSum(new Uint8Array(memory.buffer, region.byteOffset, region.byteLength));
}
await reader.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
