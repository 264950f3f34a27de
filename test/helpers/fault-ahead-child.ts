/**
 * Child process for test/fault-ahead.test.ts: what may kill a process (SIGBUS), needs
 * or another environment (`TENSIO_NO_MMAP=1`) stays out of the
 * runner. Prints one JSON line (last line of stdout).
 *
 * - `place FILE`: every tensor into a fresh WebAssembly memory with `populate: true`;
 *   sha256 of each there, whether it was mapped, and how its fault-ahead ended.
 * - `truncate-wasm FILE NAME`: places NAME with `populate: true`, cuts the file to half of
 *   the tensor at once, then sums the tensor in the memory. Reports how populated() ended
 *   and whether the mapping says it faulted. Then, deterministically: maps the first half
 *   again, cuts the file further and asks that mapping to populate.
 * - `read-default FILE`: every tensor read with the default options; sha256, whether it
 *   is mapped, and a populate failure kept for it (the addon-absent path, in the test).
 * - `read-default-close FILE`: the first tensor read with the default options and the
 *   reader closed at once; sha256 after the close (the process must then exit by itself).
 * - `truncate-view FILE NAME`: reads NAME mapped (lazy), cuts the file to half of it, asks
 *   `populateMappedView` (awaited) and then `memoryMapPopulateError`.
 */
import { createHash } from 'node:crypto';
import { openSync, truncateSync } from 'node:fs';
import { isMemoryMapped, memoryMapPopulateError, memoryMapStatus, openTensorFile, populateMappedView } from '../../src/index.js';
import { readAllIntoWasmMemory } from '../../src/io/index.js';
import { mapFileIntoWasmMemory } from '../../src/storage/memory-map.js';
import { isTensioError } from '../../src/core/errors.js';
import { byteSum, errorCodeOf, newWasmMemory } from './child-memory.js';

const [mode, path, arg] = process.argv.slice(2) as [string, string, string];
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const out: Record<string, unknown> = { mode, mapping: memoryMapStatus().enabled, populate: memoryMapStatus().populate };
if (mode === 'place') {
  const memory = newWasmMemory();
  await using reader = await openTensorFile(path);
  const placed = await readAllIntoWasmMemory(reader, reader.tensors.map((info) => info.name), memory, { populate: true });
  const tensors: Record<string, unknown> = {};
  for (const tensor of placed) {
    tensors[tensor.name] = {
      sha: createHash('sha256').update(new Uint8Array(memory.buffer, tensor.pointer, tensor.byteLength)).digest('hex'),
      mapped: tensor.mapped,
      populated: await tensor.populated(),
    };
  }
  out.tensors = tensors;
} else if (mode === 'truncate-wasm') {
  const memory = newWasmMemory();
  const reader = await openTensorFile(path);
  const [placed] = await readAllIntoWasmMemory(reader, [arg], memory, { populate: true });
  const offset = (reader.info(arg).extras?.dataOffset as number | undefined) ?? 0;
  truncateSync(path, offset + Math.floor(placed!.byteLength / 2));
  out.mapped = placed!.mapped;
  out.sum = byteSum(new Uint8Array(memory.buffer, placed!.pointer, placed!.byteLength));
  out.populated = await errorCodeOf(() => placed!.populated());
  out.faulted = placed!.faulted();
  placed!.release();
  await reader.close();
  // Deterministic: a mapping whose file is cut before its populate job runs.
  const fd = openSync(path, 'r');
  const at = memory.grow(64) * 65536;
  const mapping = mapFileIntoWasmMemory(memory, at, fd, 0, 2 * 65536, path);
  truncateSync(path, 1000);
  out.cutFirst = await errorCodeOf(() => mapping?.populate?.());
  mapping?.release();
} else if (mode === 'read-default') {
  // Every tensor read with the default options: its bytes, whether mapped, a populate failure.
  await using reader = await openTensorFile(path);
  const tensors: Record<string, unknown> = {};
  for (const info of reader.tensors) {
    const tensor = await reader.read(info.name);
    tensors[info.name] = { sha: sha(tensor.data), mapped: isMemoryMapped(tensor.data), populateError: memoryMapPopulateError(tensor.data)?.code ?? null };
  }
  out.tensors = tensors;
} else if (mode === 'read-default-close') {
  // Read with the default populate job and closed at once: the process must still exit by itself.
  const reader = await openTensorFile(path);
  const tensor = await reader.read(reader.tensors[0]!.name);
  await reader.close();
  out.sha = sha(tensor.data);
  out.mapped = isMemoryMapped(tensor.data);
} else if (mode === 'truncate-view') {
  const reader = await openTensorFile(path);
  // Lazy, so that the one populate job is the one asked for after the cut.
  const tensor = await reader.read(arg, { populate: false });
  const offset = (reader.info(arg).extras?.dataOffset as number | undefined) ?? 0;
  truncateSync(path, offset + Math.floor(tensor.data.byteLength / 2));
  out.populate = await errorCodeOf(() => populateMappedView(tensor.data, path));
  const kept = memoryMapPopulateError(tensor.data);
  out.kept = kept && isTensioError(kept) ? kept.code : String(kept);
  await reader.close();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
