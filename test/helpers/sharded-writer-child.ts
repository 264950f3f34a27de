/**
 * Child process of the concurrent sharded-writer test. `FOLDER ID START_MS`: at START_MS
 * opens a sharded safetensors writer of prefix `model` in FOLDER (three tensors filled
 * with ID, one per shard), prints `created` or `LOCKED` (or `error CODE`), then waits for
 * its stdin to close before writing the tensors and publishing (`published`), so every
 * writer is open at once while the others try.
 */
import { safetensorsShardedWriter } from '../../src/formats/safetensors/sharded-writer.js';
import { isTensioError } from '../../src/core/errors.js';

const [folder, id, startMs] = process.argv.slice(2);
const stdinClosed = new Promise<void>((resolve) => {
  process.stdin.on('end', resolve);
  process.stdin.on('close', resolve);
  process.stdin.resume();
});
const wait = Number(startMs) - Date.now();
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
const names = ['a', 'b', 'c'];
try {
  const writer = await safetensorsShardedWriter(folder!, { tensors: names.map((name) => ({ name, dtype: 'float32', shape: [64] })), maxShardBytes: 256 });
  process.stdout.write('created\n');
  await stdinClosed;
  for (const name of writer.order) await writer.add(name, new Uint8Array(new Float32Array(64).fill(Number(id)).buffer));
  await writer.close();
  process.stdout.write('published\n');
} catch (error) {
  process.stdout.write(isTensioError(error, 'LOCKED') ? 'LOCKED\n' : `error ${isTensioError(error) ? error.code : String(error)}\n`);
  await stdinClosed;
}
