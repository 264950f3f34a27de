/**
 * Child process for test/mmap-map-ahead.test.ts (what may raise SIGBUS or needs
 * `--expose-gc` stays out of the test runner). Prints one JSON line.
 *
 * - `truncate-ahead FILE`: reads the first two tensors in file order (so the third is
 *   mapped ahead and populated), waits until the populate worker is idle, cuts the file
 *   in the middle of the third tensor, then reads it; reports the error code.
 * - `churn FILE ROUNDS`: opens FILE and reads every tensor in file order, dropping each,
 *   ROUNDS times with no explicit collection; reports how many reads were mapped, the
 *   most mappings alive at once, and the live mappings before and after a collection.
 */
import { truncateSync } from 'node:fs';
import { isMemoryMapped, memoryMapPopulatePending, memoryMapStatus, openTensorFile } from '../../src/index.js';
import { collectWithTurns as collect, errorCodeOf } from './child-memory.js';

const [mode, ...args] = process.argv.slice(2);
const out: Record<string, unknown> = { mode, mapping: memoryMapStatus().enabled };
const live = () => memoryMapStatus().liveMappings ?? 0;


if (mode === 'truncate-ahead') {
  const [path] = args as [string];
  const reader = await openTensorFile(path);
  const [first, second, third] = reader.tensors;
  await reader.read(first!.name);
  await reader.read(second!.name);
  while ((memoryMapPopulatePending() ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const offsetOfThird = reader.size - (reader.tensors.slice(2).reduce((sum, info) => sum + info.byteLength, 0));
  truncateSync(path, offsetOfThird + Math.floor(third!.byteLength / 2));
  out.error = await errorCodeOf(() => reader.read(third!.name));
  await reader.close();
} else if (mode === 'churn') {
  const [path, rounds] = args as [string, string];
  await collect();
  out.before = live();
  let mapped = 0;
  let most = 0;
  for (let round = 0; round < Number(rounds); round++) {
    const reader = await openTensorFile(path);
    for (const info of reader.tensors) {
      if (isMemoryMapped((await reader.read(info.name)).data)) mapped++;
      most = Math.max(most, live());
    }
    await reader.close();
    // Finalizers run from the event loop, as they would in an application.
    await new Promise((resolve) => setImmediate(resolve));
  }
  while ((memoryMapPopulatePending() ?? 0) > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await collect();
  out.mapped = mapped;
  out.most = most;
  out.after = live();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
