/**
 * A lazily loaded format: detection and planning use only its descriptor (sniff,
 * capabilities); its implementation module is imported once, on first open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTensorReader } from '../src/model/create-reader.js';
import { lazyFormat } from '../src/model/lazy-format.js';
import { BUILT_IN_FORMATS, detectSourceFormat, openTensorFile } from '../src/operations/index.js';
import { bytesSource } from '../src/storage/byte-source.js';

const MAGIC = new TextEncoder().encode('HEAVYFMT');

test('a lazy format is detected without loading its implementation, which loads once on first open', async () => {
  let loads = 0;
  const heavy = lazyFormat({
    name: 'heavy',
    extensions: ['.heavy'],
    capabilities: { tensors: 'many', dtypes: [], layouts: ['dense'], needsShapesFirst: false, canAppend: false, checksums: 'none', folder: false },
    sniff: (head) => MAGIC.every((byte, index) => head[index] === byte),
    provides: { open: true },
  }, async () => {
    loads += 1;
    return { open: async (input) => createTensorReader({ format: 'heavy', size: typeof input === 'string' ? 0 : input.size, metadata: {}, tensors: [], locate: () => { throw new Error('none'); } }) };
  });
  const formats = [...BUILT_IN_FORMATS, heavy];
  const bytes = new Uint8Array(100);
  bytes.set(MAGIC);
  assert.equal((await detectSourceFormat(bytesSource(bytes), { formats })).name, 'heavy');
  assert.equal(typeof heavy.open, 'function');
  assert.equal(heavy.createWriter, undefined, 'no writer declared, none offered');
  assert.equal(loads, 0, 'detection loaded the implementation');
  await Promise.all([openTensorFile(bytes, { formats }), openTensorFile(bytes, { formats })]);
  await openTensorFile(bytes, { formats });
  assert.equal(loads, 1);
});
