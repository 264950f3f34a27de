/**
 * The web inspector in headless Chromium (issue 14), served by tensio's static server on
 * 127.0.0.1: a PyTorch-written safetensors file (table contents; statistics of a float32
 * tensor with NaN/±Inf and its histogram's bin counts against NumPy; filter by glob and
 * regex; sort; the prefix tree; verify; compare), a sharded index by URL (shard column,
 * header bytes fetched), an npz, a .pt and a NumPack store, a hostile file's `CODE:
 * message`, and cancel of a long statistics run. Each state is screenshotted into
 * test-artifacts/browser/ (git-ignored).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { createTensor } from '../src/index.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { oracleSkip } from './helpers/oracle.js';
import { prepareBrowserFiles, chromiumSkip, openBundlePage } from './helpers/browser.js';
import { writeStatsFixture } from './helpers/stats-oracle.js';

const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts', 'browser');
const skip = chromiumSkip() || oracleSkip('torch', 'safetensors', 'numpy');
/** The inspector's histogram has 32 bins; NumPy's numbers are computed for the same. */
const BINS = 32;

/** Table rows as the page shows them: [name, dtype, shape, parameters, bytes, shard]. */
async function tableRows(page: Page): Promise<string[][]> {
  // Strings run in the page: the tests are type-checked without the DOM library.
  return (await page.evaluate(`Array.from(document.querySelectorAll('#tensor-table tbody tr'), (row) => Array.from(row.querySelectorAll('td')).slice(0, 6).map((cell) => cell.textContent))`)) as string[][];
}

async function openUrl(page: Page, origin: string, url: string): Promise<void> {
  await page.goto(`${origin}/inspector/?url=${encodeURIComponent(url)}`);
  await page.waitForFunction(`document.querySelector('#tensor-table tbody tr') || !document.querySelector('#error').hidden`, { timeout: 30_000 });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

test('the web inspector: tables, statistics vs NumPy, filter and sort, shards by URL, errors, cancel', { skip, timeout: 240_000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { bundle, files } = await prepareBrowserFiles(t, 'tensio-inspector-');
  const { expected } = writeStatsFixture(files, BINS);
  // A hostile safetensors file: its header length field says 2^40 bytes.
  const hostile = new Uint8Array(64);
  new DataView(hostile.buffer).setBigUint64(0, 2n ** 40n, true);
  writeFileSync(join(files, 'hostile.safetensors'), hostile);
  // A large tensor for the cancel test and the remote header count: 6M float32 (24 MiB).
  const big = new Float32Array(6 * 2 ** 20).map((_, i) => Math.sin(i));
  await safetensorsWrite(join(files, 'big.safetensors'), { big: createTensor('float32', [3 * 2 ** 10, 2 * 2 ** 10], new Uint8Array(big.buffer)) });

  const { server, page, pageErrors } = await openBundlePage(t, { bundle, files });
  await page.setViewport({ width: 1280, height: 900 });
  const outsideRequests: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(server.origin) && !request.url().startsWith('data:')) outsideRequests.push(request.url());
  });
  const file = (name: string): string => `${server.origin}/files/${name}`;

  await t.test('the tensor table of a PyTorch-written safetensors file', async () => {
    await openUrl(page, server.origin, file('stats.safetensors'));
    const rows = await tableRows(page);
    const byName = new Map(rows.map((row) => [row[0], row]));
    assert.equal(rows.length, Object.keys(expected).length);
    for (const [name, numpy] of Object.entries(expected)) {
      const row = byName.get(name);
      assert.ok(row, `row ${name}`);
      assert.equal(row[2], `[${numpy.shape.join(', ')}]`, `${name} shape`);
      assert.equal(row[3]!.replace(/,/g, ''), String(numpy.count), `${name} parameters`);
    }
    assert.match(byName.get('bf16')![1]!, /^bfloat16/);
    assert.match(byName.get('f8')![1]!, /^float8_e4m3fn/);
    assert.match(await page.$eval('#file-facts', (e) => e.textContent ?? ''), /^safetensors · 7 tensors/);
    await shot(page, '1-table');
  });

  await t.test('filter by glob and regex, sort by bytes, totals by prefix', async () => {
    await page.type('#filter', 'layer.*');
    assert.deepEqual((await tableRows(page)).map((row) => row[0]), ['layer.0.attn.weight', 'layer.1.attn.weight']);
    await shot(page, '2-filter-glob');
    await page.evaluate(`document.querySelector('#filter').value = ''`);
    await page.type('#filter', '/^f(8|16)$/');
    assert.deepEqual((await tableRows(page)).map((row) => row[0]).sort(), ['f16', 'f8']);
    await page.evaluate(`document.querySelector('#filter').value = '/[/'`);
    await page.type('#filter', ' ');
    assert.match(await page.$eval('#filter-count', (e) => e.textContent ?? ''), /^INVALID_ARGUMENT: /);
    await page.evaluate(`document.querySelector('#filter').value = ''`);
    await page.type('#filter', ' ');
    await page.click('th[data-key=bytes] button');
    const sorted = (await tableRows(page)).map((row) => row[0]);
    const byBytes = Object.entries(expected).map(([name, numpy]) => [name, numpy.count * ({ 'torch.float32': 4, 'torch.bfloat16': 2, 'torch.float16': 2, 'torch.float8_e4m3fn': 1, 'torch.int64': 8 } as Record<string, number>)[numpy.dtype]!] as const);
    assert.deepEqual(sorted.map((name) => byBytes.find(([n]) => n === name)![1]), byBytes.map(([, bytes]) => bytes).sort((a, b) => b - a), 'descending bytes');
    assert.equal(await page.$eval('th[data-key=bytes]', (e) => e.getAttribute('aria-sort')), 'descending');
    assert.match(await page.$eval('#prefix-tree details[data-prefix=layer] summary', (e) => e.textContent ?? ''), /^layer\. 2 tensors · 128 parameters/);
    await shot(page, '3-sorted');
  });

  await t.test('statistics of a float32 tensor with NaN and ±Inf match NumPy, histogram bins too', async () => {
    await page.click('#tensor-table tbody tr[data-name=normal] button');
    await page.waitForSelector('#stats-grid', { timeout: 30_000 });
    const stats = (await page.evaluate('window.tensioInspector.statistics()')) as { min: number; max: number; mean: number; std: number; zeros: number; nan: number; positiveInfinity: number; negativeInfinity: number; finite: number };
    const numpy = expected.normal!;
    assert.equal(stats.min, numpy.min);
    assert.equal(stats.max, numpy.max);
    assert.ok(Math.abs(stats.mean - numpy.mean) <= 1e-9 * Math.abs(numpy.mean), `mean ${stats.mean} vs ${numpy.mean}`);
    assert.ok(Math.abs(stats.std - numpy.std) <= 1e-9 * numpy.std, `std ${stats.std} vs ${numpy.std}`);
    assert.deepEqual([stats.zeros, stats.nan, stats.positiveInfinity, stats.negativeInfinity, stats.finite], [numpy.zeros, numpy.nan, numpy.posinf, numpy.neginf, numpy.finite]);
    const drawn = await page.$$eval('svg.histogram rect', (rects) => rects.map((rect) => Number(rect.getAttribute('data-count'))));
    assert.deepEqual(drawn, numpy.counts, 'histogram bars vs numpy.histogram');
    assert.ok(await page.$('canvas.heatmap'), 'a 2-D tensor gets a heat map');
    assert.match(await page.$eval('.first-values', (e) => e.textContent ?? ''), /^First values: /);
    await shot(page, '4-statistics');
    // bf16 and f8 through the same page.
    for (const name of ['bf16', 'f8']) {
      await page.click(`#tensor-table tbody tr[data-name=${name}] button`);
      await page.waitForFunction(`window.tensioInspector.statistics()?.name === ${JSON.stringify(name)}`, { timeout: 30_000 });
      const other = (await page.evaluate('window.tensioInspector.statistics()')) as { mean: number; histogram: { counts: number[] } };
      assert.ok(Math.abs(other.mean - expected[name]!.mean) <= 1e-9 * Math.max(1, Math.abs(expected[name]!.mean)), `${name} mean`);
      assert.deepEqual(other.histogram.counts, expected[name]!.counts, `${name} histogram`);
    }
  });

  await t.test('verify and compare from the page', async () => {
    await page.click('#verify');
    await page.waitForFunction(`/^(OK|FAILED)/.test(document.querySelector('#verify-result').textContent)`, { timeout: 30_000 });
    assert.match(await page.$eval('#verify-result', (e) => e.textContent ?? ''), /^OK: 7 tensors/);
    await openUrl(page, server.origin, file('two.safetensors'));
    await page.type('#compare-url', file('one.safetensors'));
    await page.click('#compare-form button');
    await page.waitForSelector('#diff-verdict', { timeout: 30_000 });
    assert.match(await page.$eval('#diff-verdict', (e) => e.textContent ?? ''), /^1 equal, 0 changed, 1 only in A, 0 only in B/);
    await shot(page, '5-compare');
  });

  await t.test('a sharded index by URL shows every shard; npz, .pt and a NumPack store open', async () => {
    const before = server.stats.log.length;
    await openUrl(page, server.origin, file('sharded/model.safetensors.index.json'));
    const rows = await tableRows(page);
    assert.deepEqual(rows.map((row) => row[0]).sort(), ['b', 'w']);
    assert.ok(rows.every((row) => /^model-0000\d-of-0000\d\.safetensors$/.test(row[5]!)), `shard column: ${JSON.stringify(rows)}`);
    assert.ok(server.stats.log.slice(before).some((entry) => entry.path.endsWith('.index.json')));
    await shot(page, '6-sharded');
    for (const [name, format] of [['one.npz', 'npz'], ['one.pt', 'pytorch'], ['one.npk/', 'npk']] as const) {
      await openUrl(page, server.origin, file(name));
      assert.deepEqual((await tableRows(page)).map((row) => row.slice(0, 3)), [['w', format === 'pytorch' ? 'float32 (torch.FloatStorage)' : (await tableRows(page))[0]![1]!, '[4, 3]']], name);
      assert.match(await page.$eval('#file-facts', (e) => e.textContent ?? ''), new RegExp(`^${format} · 1 tensors`));
    }
  });

  await t.test('a remote header costs at most header + 64 KiB', async () => {
    const before = server.stats.log.length;
    await openUrl(page, server.origin, file('big.safetensors'));
    const fetched = server.stats.log.slice(before).filter((entry) => entry.path === '/files/big.safetensors').reduce((sum, entry) => sum + entry.bytes, 0);
    const header = 8 + 100; // the header of one tensor is under 100 bytes
    assert.ok(fetched > 0 && fetched <= header + 64 * 1024, `fetched ${fetched} bytes of a 24 MiB file`);
    t.diagnostic(`remote header of a 24 MiB safetensors file: ${fetched} bytes fetched`);
  });

  await t.test('cancel stops a long statistics run', async () => {
    // Small chunks (?chunkBytes) so the 24 MiB run takes many steps.
    await page.goto(`${server.origin}/inspector/?chunkBytes=16384&url=${encodeURIComponent(file('big.safetensors'))}`);
    await page.waitForSelector('#tensor-table tbody tr');
    await page.click('#tensor-table tbody tr[data-name=big] button');
    await page.waitForFunction(`document.querySelector('#progress').value > 0`, { timeout: 30_000 });
    await shot(page, '7-running');
    await page.click('#cancel');
    await page.waitForFunction(`/^ABORTED: /.test(document.querySelector('#detail-body').textContent)`, { timeout: 30_000 });
    assert.equal(await page.evaluate('window.tensioInspector.statistics()'), undefined, 'no statistics were produced');
    await shot(page, '8-cancelled');
  });

  await t.test('a hostile file shows CODE: message', async () => {
    await openUrl(page, server.origin, file('hostile.safetensors'));
    const text = await page.$eval('#error', (e) => e.textContent ?? '');
    assert.match(text, /^[A-Z_]+: safetensors: /, text);
    assert.equal(await page.evaluate(`document.querySelector('#file-view').hidden`), true);
    await shot(page, '9-hostile');
  });

  assert.deepEqual(pageErrors, []);
  assert.deepEqual(outsideRequests, [], 'the page requests nothing outside its origin');
});
