/**
 * Child process for test/npk-segments-mapped.test.ts: loads array `a` of the segmented
 * store given (one mapping of all its segments), cuts segment 1 to half its length under
 * the live view, then reads every byte of the view and prints one JSON line: whether the
 * load was mapped, whether the view reports the fault, whether segment 0 kept its bytes
 * and whether everything from the page past the cut on reads as zero. Run apart because
 * a missed SIGBUS would kill the process.
 */
import { readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { NumPack } from '../../src/npk/index.js';
import { npkDecodeManifest } from '../../src/npk/segments.js';
import { isMemoryMapped, memoryMapFaulted } from '../../src/storage/memory-map.js';

const path = process.argv[2]!;
const npk = await NumPack.open(path, { readOnly: true });
const view = (await npk.load('a')).data;
const segments = npkDecodeManifest(readFileSync(join(path, 'data_a.npkseg')), npk.getShape('a').slice(1).reduce((a, b) => a * b, 4));
const first = readFileSync(join(path, segments[0]!.file));
const second = join(path, segments[1]!.file);
const cut = Math.floor(statSync(second).size / 2);
truncateSync(second, cut);
let intact = true;
for (let i = 0; i < first.byteLength; i++) if (view[i] !== first[i]) intact = false;
// Zero pages replace the mapping from the faulting page on: from the page after the cut at the latest.
const zerosFrom = first.byteLength + Math.ceil(cut / 4096) * 4096;
let zeros = true;
for (let i = zerosFrom; i < view.byteLength; i++) if (view[i] !== 0) zeros = false;
console.log(JSON.stringify({ mapped: isMemoryMapped(view), faulted: memoryMapFaulted(view), firstSegmentIntact: intact, zerosAfterCut: zeros }));
await npk.close();
