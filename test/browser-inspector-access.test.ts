/**
 * The web inspector by keyboard and with several files (issue 14), in headless Chromium:
 * the tab order, Enter and Space on the drop zone (a file chooser that takes several
 * files), on sort buttons and on table rows (arrow keys move between rows), a visible
 * focus ring, focus landing on the results, an accessible name on every control; a
 * sharded model opened by choosing, and by dropping, its index with its shards (and the
 * errors when shards or the index are missing); an HDF5 file read by libhdf5 in the
 * inspector's worker; compare with progress and Cancel; and
 * errors shown as `CODE: message`, never a blank page. Screenshots go to
 * test-artifacts/browser/ (git-ignored).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileChooser, Page } from 'puppeteer-core';
import { createTensor } from '../src/index.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { prepareBrowserFiles, chromiumSkip, openBundlePage } from './helpers/browser.js';

const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'test-artifacts', 'browser');
const skip = chromiumSkip();

/** What has the focus: `#id`, `tr[name]`, or the tag. */
async function focused(page: Page): Promise<string> {
  return (await page.evaluate(`(() => {
    const e = document.activeElement;
    if (!e) return 'none';
    if (e.tagName === 'TR') return 'tr[' + e.dataset.name + ']';
    if (e.id) return '#' + e.id;
    if (e.closest('th[data-key]')) return 'sort:' + e.closest('th[data-key]').dataset.key;
    return e.tagName.toLowerCase();
  })()`)) as string;
}

async function tableNames(page: Page): Promise<string[]> {
  return (await page.evaluate(`Array.from(document.querySelectorAll('#tensor-table tbody tr'), (row) => row.dataset.name)`)) as string[];
}

/**
 * Presses Enter on the focused drop zone and returns the file chooser it opens. A round
 * trip to the page first, so Chromium intercepts choosers before the key arrives.
 */
async function chooseWithEnter(page: Page): Promise<FileChooser> {
  const opened = page.waitForFileChooser({ timeout: 30_000 });
  await page.evaluate('0');
  await page.keyboard.press('Enter');
  return opened;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Waits until the page shows a table or an error, and returns the error text ('' when none). */
async function settled(page: Page): Promise<string> {
  await page.waitForFunction(`!document.querySelector('#error').hidden || (!document.querySelector('#file-view').hidden && !/^Opening/.test(document.querySelector('#status').textContent))`, { timeout: 30_000 });
  return page.$eval('#error', (e) => ((e as unknown as { hidden: boolean }).hidden ? '' : e.textContent ?? ''));
}

/** The page shows one.h5 opened (no error, its one tensor `w`), and `w`'s statistics are the fixture's. */
async function expectHdf5Fixture(page: Page, message: string): Promise<void> {
  assert.equal(await settled(page), '');
  assert.deepEqual(await tableNames(page), ['w']);
  assert.match(await page.$eval('#file-facts', (e) => e.textContent ?? ''), /^hdf5 · 1 tensors/);
  await page.click('#tensor-table tbody tr[data-name=w] button');
  await page.waitForFunction(`window.tensioInspector.statistics()?.name === 'w'`, { timeout: 30_000 });
  const stats = (await page.evaluate('window.tensioInspector.statistics()')) as { min: number; max: number; count: number };
  assert.deepEqual([stats.min, stats.max, stats.count], [-12, 11, 12], message);
}

test('the inspector by keyboard, a sharded model from chosen or dropped files, compare with cancel, errors that never blank the page', { skip, timeout: 240_000 }, async (t) => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const { bundle, files } = await prepareBrowserFiles(t, 'tensio-inspector-access-');
  // Two 16 MiB files that differ in one value: a compare long enough to cancel.
  const values = new Float32Array(4 * 2 ** 20).map((_, i) => Math.sin(i));
  await safetensorsWrite(join(files, 'big-a.safetensors'), { big: createTensor('float32', [2 ** 11, 2 ** 11], new Uint8Array(values.buffer)) });
  values[values.length - 1] = 42;
  await safetensorsWrite(join(files, 'big-b.safetensors'), { big: createTensor('float32', [2 ** 11, 2 ** 11], new Uint8Array(values.buffer)) });
  writeFileSync(join(files, 'noise.bin'), new Uint8Array(4096).map((_, i) => (i * 7919) & 0xff));

  const { server, page, pageErrors } = await openBundlePage(t, { bundle, files });
  await page.setViewport({ width: 1280, height: 900 });
  const shardFiles = ['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'].map((name) => join(files, 'sharded', name));

  await t.test('tab order from the top; Enter on the drop zone opens a chooser that takes an index with its shards', async () => {
    await page.goto(`${server.origin}/inspector/`);
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused(page));
    }
    assert.deepEqual(order, ['#drop', '#url', 'button'], 'drop zone, URL field, Open URL');
    await page.keyboard.down('Shift');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.up('Shift');
    assert.equal(await focused(page), '#drop');
    assert.notEqual(await page.evaluate(`getComputedStyle(document.querySelector('#drop')).outlineStyle`), 'none', 'the focused drop zone shows a focus ring');
    const chooser = await chooseWithEnter(page);
    assert.equal(chooser.isMultiple(), true, 'the chooser takes several files');
    await chooser.accept(shardFiles);
    assert.equal(await settled(page), '');
    const rows = (await page.evaluate(`Array.from(document.querySelectorAll('#tensor-table tbody tr'), (row) => [row.dataset.name, row.cells[5].textContent])`)) as string[][];
    assert.deepEqual(rows.map((row) => row[0]).sort(), ['b', 'w']);
    assert.ok(rows.every((row) => /^model-0000[12]-of-00002\.safetensors$/.test(row[1]!)), `shard column: ${JSON.stringify(rows)}`);
    assert.match(await page.$eval('#file-name', (e) => e.textContent ?? ''), /^model\.safetensors\.index\.json \+ 2 shards$/);
    await shot(page, '10-sharded-from-chosen-files');
    await page.click('#verify');
    await page.waitForFunction(`/^(OK|FAILED|[A-Z_]+:)/.test(document.querySelector('#verify-result').textContent)`, { timeout: 30_000 });
    assert.match(await page.$eval('#verify-result', (e) => e.textContent ?? ''), /^OK: 2 tensors/);
  });

  await t.test('table by keyboard: sort with Space, one tab stop for the rows, arrows move, Enter shows statistics, focus lands on them', async () => {
    await page.goto(`${server.origin}/inspector/?url=${encodeURIComponent(`${server.origin}/files/two.safetensors`)}`);
    assert.equal(await settled(page), '');
    await page.focus('#filter');
    const stops: string[] = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      stops.push(await focused(page));
    }
    const first = (await tableNames(page))[0]!;
    assert.deepEqual(stops, ['sort:name', 'sort:dtype', 'sort:shape', 'sort:parameters', 'sort:bytes', 'sort:shard', `tr[${first}]`, '#compare-file'], 'sort buttons, ONE stop for all rows, then compare');
    // Back to the sort button for bytes; Space sorts (descending first for sizes).
    await page.keyboard.down('Shift');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Tab');
    await page.keyboard.up('Shift');
    assert.equal(await focused(page), 'sort:bytes');
    await page.keyboard.press('Space');
    assert.equal(await page.$eval('th[data-key=bytes]', (e) => e.getAttribute('aria-sort')), 'descending');
    assert.deepEqual(await tableNames(page), ['w', 'b'], 'w (48 bytes) before b (12)');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), `tr[${first}]`, 'the tab stop stays on the row visited before sorting');
    assert.notEqual(await page.evaluate(`getComputedStyle(document.activeElement).outlineStyle`), 'none', 'the focused row shows a focus ring');
    await page.keyboard.press('Home');
    assert.equal(await focused(page), 'tr[w]');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(page), 'tr[b]');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(page), 'tr[b]', 'stays on the last row');
    await page.keyboard.press('Home');
    assert.equal(await focused(page), 'tr[w]');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.waitForFunction(`window.tensioInspector.statistics()?.name === 'b'`, { timeout: 30_000 });
    await page.waitForFunction(`document.activeElement?.id === 'detail-title'`, { timeout: 10_000 });
    assert.match(await page.$eval('#detail-title', (e) => e.textContent ?? ''), /^Statistics of b$/);
    await shot(page, '11-keyboard-statistics');
    // Shift+Tab from the results goes back into the table, on the row used last.
    await page.focus('#filter');
    for (let i = 0; i < 7; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'tr[b]', 'the table keeps its tab stop on the row used last');
    await page.keyboard.press('Space');
    await page.waitForFunction(`document.activeElement?.id === 'detail-title'`, { timeout: 10_000 });
  });

  await t.test('every control has an accessible name', async () => {
    await page.evaluate(`document.querySelector('#compare-run').hidden = false`);
    const unnamed = (await page.evaluate(`Array.from(document.querySelectorAll('button, input, select, textarea, progress, [role=button], [tabindex="0"]'))
      .filter((e) => {
        const labelled = (e.getAttribute('aria-labelledby') ?? '').split(/\\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join('');
        const label = e.id ? Array.from(document.querySelectorAll('label')).filter((l) => l.htmlFor === e.id).map((l) => l.textContent).join('') : '';
        const name = (e.getAttribute('aria-label') ?? '') + labelled + label + (e.tagName === 'INPUT' || e.tagName === 'PROGRESS' ? '' : e.textContent ?? '');
        return name.trim() === '';
      })
      .map((e) => e.outerHTML.slice(0, 120))`)) as string[];
    await page.evaluate(`document.querySelector('#compare-run').hidden = true`);
    assert.deepEqual(unnamed, []);
    // Chromium's accessibility tree agrees for the buttons and fields it exposes.
    const tree = await page.accessibility.snapshot({ interestingOnly: true });
    const nameless: string[] = [];
    const walk = (node: { role: string; name?: string; children?: unknown[] } | null | undefined): void => {
      if (!node) return;
      if (['button', 'textbox', 'searchbox', 'row', 'progressbar'].includes(node.role) && !node.name?.trim()) nameless.push(node.role);
      for (const child of node.children ?? []) walk(child as never);
    };
    walk(tree as never);
    assert.deepEqual(nameless, []);
  });

  await t.test('compare shows progress and Cancel stops it; the next compare still runs', async () => {
    await page.goto(`${server.origin}/inspector/?chunkBytes=16384&url=${encodeURIComponent(`${server.origin}/files/big-a.safetensors`)}`);
    assert.equal(await settled(page), '');
    await page.type('#compare-url', `${server.origin}/files/big-b.safetensors`);
    await page.click('#compare-form button[type=submit]');
    await page.waitForFunction(`document.querySelector('#compare-progress').value > 0`, { timeout: 30_000 });
    assert.equal(await page.$eval('#compare-run', (e) => (e as unknown as { hidden: boolean }).hidden), false);
    await shot(page, '12-compare-running');
    await page.click('#compare-cancel');
    await page.waitForFunction(`/^ABORTED: /.test(document.querySelector('#diff-result').textContent)`, { timeout: 30_000 });
    assert.equal(await page.$eval('#compare-run', (e) => (e as unknown as { hidden: boolean }).hidden), true);
    await shot(page, '13-compare-cancelled');
    await page.evaluate(`document.querySelector('#compare-url').value = ''`);
    await page.type('#compare-url', `${server.origin}/files/one.safetensors`);
    await page.click('#compare-form button[type=submit]');
    await page.waitForSelector('#diff-verdict', { timeout: 30_000 });
    assert.match(await page.$eval('#diff-verdict', (e) => e.textContent ?? ''), /^0 equal, 0 changed, 1 only in A, 1 only in B/);
  });

  await t.test('dropped files: an index with its shards opens; missing shards, no index or a non-tensor file show CODE: message', async () => {
    await page.goto(`${server.origin}/inspector/`);
    const drop = async (names: string[]): Promise<string> => {
      await page.evaluate(`(async (names) => {
        const transfer = new DataTransfer();
        for (const name of names) transfer.items.add(new File([await (await fetch('/files/' + name)).blob()], name.split('/').pop()));
        document.querySelector('#drop').dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      })(${JSON.stringify(names)})`);
      return settled(page);
    };
    const sharded = ['sharded/model.safetensors.index.json', 'sharded/model-00001-of-00002.safetensors', 'sharded/model-00002-of-00002.safetensors'];
    assert.equal(await drop(sharded), '');
    assert.deepEqual((await tableNames(page)).sort(), ['b', 'w']);
    assert.match(await drop(sharded.slice(0, 2)), /^NOT_FOUND: sharded: model\.safetensors\.index\.json names 2 shards; 1 of them were not chosen \(model-00002-of-00002\.safetensors\)/);
    await shot(page, '14-dropped-shards-missing');
    assert.match(await drop(sharded.slice(1)), /^INVALID_ARGUMENT: 2 files chosen and none is a sharded checkpoint index/);
    assert.match(await drop(['noise.bin']), /^[A-Z_]+: /);
    // Never blank: the opening controls stay, the error is visible, the page has text.
    assert.equal(await page.$eval('#open', (e) => (e as unknown as { hidden: boolean }).hidden), false);
    assert.ok(((await page.evaluate('document.body.innerText')) as string).length > 100);
  });

  await t.test('an HDF5 file chosen in the inspector opens in its worker (libhdf5 reads the File by range with FileReaderSync)', async () => {
    await page.goto(`${server.origin}/inspector/`);
    await page.focus('#drop');
    const chooser = await chooseWithEnter(page);
    await chooser.accept([join(files, 'one.h5')]);
    await expectHdf5Fixture(page, 'the fixture w: 1, -2, 3.5, 0, 5 … 11, -12');
    await shot(page, '16-hdf5-from-file');
  });

  await t.test('an HDF5 file by URL opens in the inspector\'s worker (libhdf5 reads it by synchronous Range requests), statistics included', async () => {
    await page.goto(`${server.origin}/inspector/?url=${encodeURIComponent(`${server.origin}/files/one.h5`)}`);
    await expectHdf5Fixture(page, 'the fixture w read by URL');
    await shot(page, '17-hdf5-from-url');
  });

  await t.test('a URL that does not exist and a text that is not a URL show CODE: message', async () => {
    await page.goto(`${server.origin}/inspector/?url=${encodeURIComponent(`${server.origin}/files/missing.safetensors`)}`);
    assert.match(await settled(page), /^NOT_FOUND: /);
    await shot(page, '15-url-not-found');
    await page.evaluate(`document.querySelector('#url').type = 'text'; document.querySelector('#url').value = ''`);
    await page.type('#url', 'http://[not a url');
    await page.keyboard.press('Enter');
    await page.waitForFunction(`/^INVALID_ARGUMENT: /.test(document.querySelector('#error').textContent)`, { timeout: 10_000 });
  });

  assert.deepEqual(pageErrors, []);
});
