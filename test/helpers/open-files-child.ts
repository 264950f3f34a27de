/**
 * Child process for bounded-cost tests: opens each file given on the command line with
 * `openTensorFile` and prints one JSON line per file (outcome, error code, tensors,
 * milliseconds, peak RSS). Run it with a small `--max-old-space-size` to prove memory
 * stays bounded: a file that needs more ends the child with a heap error.
 */
import { openTensorFile } from '../../src/index.js';
import { isTensioError } from '../../src/core/errors.js';

for (const path of process.argv.slice(2)) {
  const started = performance.now();
  let line: Record<string, unknown>;
  try {
    const reader = await openTensorFile(path);
    line = { path, outcome: 'ok', tensors: reader.tensors.length, sample: reader.tensors[0]?.extras ?? null };
    await reader.close();
  } catch (error) {
    line = isTensioError(error)
      ? { path, outcome: 'error', code: error.code, messageLength: error.message.length }
      : { path, outcome: 'crash', error: String((error as Error)?.stack ?? error).slice(0, 2000) };
  }
  line.ms = Math.round(performance.now() - started);
  line.rssMB = Math.round(process.memoryUsage().rss / 2 ** 20);
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
