/**
 * Deflated `.npz` members stream (the `chunks` location): bounded memory for stream(),
 * row slices and verify, with the zip CRC-32 checked at the end of a full stream.
 * Regression row 10 (`../shared/regressions/bomb_*.npz`: verify took 4.3 GB).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { isTensioError } from '../src/core/errors.js';
import { npySerialize } from '../src/formats/npy/index.js';
import { npzOpen, npzWrite } from '../src/formats/npz/index.js';
import { craftZip } from './helpers/zip-craft.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function arange(rows: number, cols: number): Float32Array {
  return Float32Array.from({ length: rows * cols }, (_, i) => i * 0.5 - 7);
}

test('a deflated member is a chunked location: stream and row slices equal the stored file', async (t) => {
  const dir = await tempDir(t);
  const data = arange(3000, 257);
  const tensor = { dtype: 'float32' as const, shape: [3000, 257], data: new Uint8Array(data.buffer) };
  await npzWrite(join(dir, 'c.npz'), { x: tensor }, { compress: true });
  await npzWrite(join(dir, 's.npz'), { x: tensor });
  await using compressed = await npzOpen(join(dir, 'c.npz'));
  await using stored = await npzOpen(join(dir, 's.npz'));
  assert.equal(compressed.info('x').extras?.compressed, true);
  const whole = (await stored.read('x')).data;
  const parts: Uint8Array[] = [];
  for await (const piece of compressed.stream('x', { chunkBytes: 100_000 })) {
    assert.ok(piece.byteLength <= 100_000);
    parts.push(piece.slice());
  }
  assert.ok(Buffer.concat(parts).equals(Buffer.from(whole)));
  for (const [start, end] of [[0, 1], [5, 17], [2999, 3000], [-10, undefined], [1000, 2000]] as const) {
    const a = await compressed.read('x', { slice: { start, ...(end !== undefined ? { end } : {}) } });
    const b = await stored.read('x', { slice: { start, ...(end !== undefined ? { end } : {}) } });
    assert.deepEqual(a.shape, b.shape);
    assert.ok(Buffer.from(a.data).equals(Buffer.from(b.data)), `slice ${start}..${end}`);
  }
});

test('a deflated member with a wrong CRC-32: a full stream fails at its end, a leading slice reads', async () => {
  const npy = npySerialize({ dtype: 'uint8', shape: [64, 1024], data: new Uint8Array(65536).map((_, i) => i % 251) });
  const zip = craftZip([{ name: 'x.npy', data: deflateRawSync(npy), method: 8, uncompressedSize: npy.byteLength, crc: 0x12345678 }]);
  const reader = await npzOpen(zip);
  await assert.rejects(async () => {
    for await (const piece of reader.stream('x')) void piece;
  }, (error: unknown) => isTensioError(error, 'CHECKSUM_MISMATCH'));
  await assert.rejects(reader.read('x'), (error: unknown) => isTensioError(error, 'CHECKSUM_MISMATCH'));
  const head = await reader.read('x', { slice: { start: 0, end: 2 } });
  assert.deepEqual([...head.data.subarray(0, 3)], [0, 1, 2]);
  const unchecked = await npzOpen(zip, { checkCrc: false });
  assert.equal((await unchecked.read('x')).data.byteLength, 65536);
});

/**
 * Runs `script` (an ES module body using `tensio`) in a child node with a small V8 heap
 * and returns what it printed plus its peak RSS above the RSS after start-up.
 */
function runMeasured(script: string): { output: unknown; aboveBaselineMiB: number } {
  const body = `
    import { readFileSync, writeFileSync } from 'node:fs';
    const tensio = await import(${JSON.stringify(join(REPO, 'src', 'index.ts'))});
    const status = (field) => Number(new RegExp('^' + field + ':\\\\s+(\\\\d+) kB', 'm').exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
    try { writeFileSync('/proc/self/clear_refs', '5'); } catch {}
    const baseline = status('VmRSS');
    const output = await (async () => { ${script} })();
    console.log(JSON.stringify({ output, above: status('VmHWM') - baseline }));
  `;
  const child = spawnSync(process.execPath, ['--max-old-space-size=96', '--import', 'tsx', '--input-type=module', '-e', body], { cwd: REPO, encoding: 'utf8', timeout: 300_000 });
  assert.equal(child.status, 0, child.stderr);
  const report = JSON.parse(child.stdout.trim().split('\n').pop()!) as { output: unknown; above: number };
  return { output: report.output, aboveBaselineMiB: report.above / 2 ** 20 };
}

test('regression 10: verify of a deflated 1 GiB and a 4 GiB member streams in bounded memory', { skip: sharedSkip('regressions/bomb_1g.npz', 'regressions/bomb_4g.npz') }, (t) => {
  for (const name of ['bomb_1g.npz', 'bomb_4g.npz']) {
    const path = sharedFile(`regressions/${name}`)!;
    // verify streams the member twice (CRC pass, then the tensor); the 1 GiB one is also streamed by hand.
    const streamByHand = name === 'bomb_1g.npz';
    const { output, aboveBaselineMiB } = runMeasured(`
      const report = await tensio.verifyTensorFile(${JSON.stringify(path)});
      const reader = await tensio.openTensorFile(${JSON.stringify(path)});
      let streamed = 0;
      if (${streamByHand}) for await (const piece of reader.stream('x')) streamed += piece.byteLength;
      const byteLength = reader.info('x').byteLength;
      await reader.close();
      return { ok: report.ok, problems: report.problems, checksums: report.checksumsVerified, streamed, byteLength };
    `);
    const result = output as { ok: boolean; problems: unknown[]; checksums: number; streamed: number; byteLength: number };
    assert.equal(result.ok, true, JSON.stringify(result.problems));
    assert.equal(result.checksums, 1);
    if (streamByHand) assert.equal(result.streamed, result.byteLength);
    assert.ok(result.byteLength > (name === 'bomb_4g.npz' ? 4 * 10 ** 9 : 10 ** 9));
    t.diagnostic(`${name}: verify peak RSS ${aboveBaselineMiB.toFixed(0)} MiB above baseline`);
    // Before the chunked location: 1.2 GB (1 GiB member) and 4.3 GB (4 GiB member).
    assert.ok(aboveBaselineMiB < 256, `${name}: peak RSS ${aboveBaselineMiB.toFixed(0)} MiB above baseline`);
  }
});
