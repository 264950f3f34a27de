/**
 * tensio's Parquet read timed in a process of its own, the way pyarrow's own-process
 * peer is timed (bench/lib/own-process.ts): a fresh process reads the file once untimed,
 * then once timed, and prints the timed read's seconds. Started by bench/lib/own-process.ts:
 *
 *   node --expose-gc --import tsx bench/parquet-read-child.ts <file.parquet> <stacked|separate>
 *
 * Why: a read in its own process is what a user's script sees. (Until session 29 it was
 * also the only tensio row free of the Python children the bench started between its
 * in-process reads: the first stacked read after a child took ~10× the minor faults,
 * bench/README.md. The own-process rounds now run after every in-process round.)
 */
import { parquetOpen } from '../src/formats/parquet/index.js';

const [file, mode] = process.argv.slice(2);
if (!file || (mode !== 'stacked' && mode !== 'separate')) throw new Error('usage: parquet-read-child.ts <file.parquet> <stacked|separate>');
const gc = (globalThis as { gc?: () => void }).gc;

/** One whole read of every tensor; the bytes read. */
async function readAll(): Promise<number> {
  const reader = await parquetOpen(file!, mode === 'separate' ? { formatOptions: { columns: 'separate' } } : {});
  try {
    let bytes = 0;
    for (const tensor of reader.tensors) bytes += (await reader.read(tensor.name)).data.byteLength;
    return bytes;
  } finally {
    await reader.close();
  }
}

const untimed = await readAll();
gc?.();
const start = performance.now();
const bytes = await readAll();
const seconds = (performance.now() - start) / 1000;
if (bytes !== untimed || bytes === 0) throw new Error(`read ${bytes} bytes, then ${untimed}`);
console.log(seconds);
