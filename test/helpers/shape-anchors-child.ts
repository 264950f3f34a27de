/**
 * Reads each Parquet file it is given whole (every tensor, the default stacked read)
 * and streamed, twice with a full collection between, then (before any other collection)
 * reports for each shape anchor the loaded modules keep (`src/core/shape-anchors.ts`)
 * whether an instance made now still has the anchor's shape: the reads moved no field of
 * the class to another kind of value. Run
 * with `--allow-natives-syntax --expose-gc` (test/shape-anchors.test.ts):
 *
 *   node --allow-natives-syntax --expose-gc --import tsx test/helpers/shape-anchors-child.ts <file.parquet>...
 */
import { shapeAnchors } from '../../src/core/shape-anchors.js';
import { parquetOpen } from '../../src/formats/parquet/index.js';

// V8's own check, reachable only through a natives-syntax call compiled at run time (tsx would not parse `%`).
const haveSameShape = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

let bytes = 0;
for (let round = 0; round < 2; round++) {
  // The collection before the second round is the one that drops a shape nothing holds.
  if (round > 0) gc();
  for (const file of process.argv.slice(2)) {
    const reader = await parquetOpen(file);
    try {
      for (const tensor of reader.tensors) {
        bytes += (await reader.read(tensor.name)).data.byteLength;
        // A streamed read too: its page readers and page supplies are anchored as well.
        for await (const chunk of reader.stream(tensor.name)) bytes += chunk.byteLength;
      }
    } finally {
      await reader.close();
    }
  }
}
// Compared before anything reads a property of the anchor: a property access on an object of a deprecated shape moves it to the new one.
const sameShapes = shapeAnchors().map(({ instance, make }) => haveSameShape(instance, make()));
const anchors = shapeAnchors().map(({ instance }, at) => ({ name: instance.constructor.name, sameShape: sameShapes[at] }));
console.log(JSON.stringify({ bytes, anchors }));
