/**
 * The browser bundle in headless Chromium (issue 14): `dist/web/tensio.js` built from
 * the same sources, served by tensio's static server on 127.0.0.1, reads a file of every
 * format from a `File` (a Blob read by range) and from its URL (fetch with Range
 * requests), and writes to memory. HDF5 is refused with UNSUPPORTED_FEATURE (its library
 * build is Node's); zTensor reads with the TypeScript XXH3; the folder layouts (NumPack, Zarr, a sharded index) open by URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { prepareBrowserFiles, chromiumSkip, FIXTURE_VALUES, firefoxSkip, launchFirefox, openBundlePage } from './helpers/browser.js';

const skip = chromiumSkip();

/** Opens each input from a File and from its URL, reads `w`, and reports format, names and values or `CODE: message`. */
const READ_EVERY_FORMAT = String.raw`async (names, folders) => {
  const tensio = await import('/tensio.js');
  const out = [];
  const describe = async (input, open) => {
    try {
      const reader = await open();
      const name = reader.tensors.some((info) => info.name === 'w') ? 'w' : reader.tensors[0].name;
      const tensor = await reader.read(name);
      const values = tensor.dtype === 'float64' ? Array.from(new Float64Array(tensor.data.slice().buffer)) : Array.from(tensio.toFloat32Array(tensor));
      out.push({ input, format: reader.format, names: reader.tensors.map((info) => info.name).sort(), values });
      await reader.close?.();
    } catch (error) {
      out.push({ input, error: (error.code ?? 'NO_CODE') + ': ' + error.message });
    }
  };
  for (const name of names) {
    const blob = await (await fetch('/files/' + name)).blob();
    await describe('blob:' + name, () => tensio.openTensorFile(tensio.blobSource(new File([blob], name))));
    await describe('url:' + name, () => tensio.openTensorFile(new URL('/files/' + name, location.href).href));
  }
  for (const folder of folders) await describe('url:' + folder, () => tensio.openTensorFile(new URL('/files/' + folder, location.href).href));
  // A writer to memory: npz (from a File) converted to safetensors in a memory sink, read back from its bytes.
  try {
    const sink = tensio.memorySink();
    const source = tensio.blobSource(new File([await (await fetch('/files/one.npz')).blob()], 'one.npz'));
    await tensio.convert(source, sink, { to: 'safetensors' });
    await describe('memory:safetensors', () => tensio.openTensorFile(sink.bytes(), { name: 'x.safetensors' }));
  } catch (error) {
    out.push({ input: 'memory:safetensors', error: (error.code ?? 'NO_CODE') + ': ' + error.message });
  }
  return out;
}`;

/** What the page reports for one input. */
interface PageResult {
  input: string;
  format?: string;
  names?: string[];
  values?: number[];
  error?: string;
}

test('the browser bundle reads every format from a Blob and from a URL in headless Chromium', { skip, timeout: 180_000 }, async (t) => {
  const { bundle, files, fixtures } = await prepareBrowserFiles(t, 'tensio-browser-');
  const { server, browser, page, pageErrors } = await openBundlePage(t, { bundle, files });
  // What a fresh page downloads to open a safetensors file: the JavaScript the server sent.
  const sizePage = await browser.newPage();
  await sizePage.goto(`${server.origin}/files/harness.html`);
  const mark = server.stats.log.length;
  const opened = await sizePage.evaluate(`(async () => {
    const tensio = await import('/tensio.js');
    const blob = await (await fetch('/files/one.safetensors')).blob();
    const reader = await tensio.openTensorFile(tensio.blobSource(new File([blob], 'one.safetensors')));
    const values = Array.from(tensio.toFloat32Array(await reader.read('w')));
    return values.length;
  })()`);
  assert.equal(opened, 12);
  const javascript = server.stats.log.slice(mark).filter((entry) => entry.path.endsWith('.js'));
  const javascriptBytes = javascript.reduce((sum, entry) => sum + entry.bytes, 0);
  t.diagnostic(`opening a safetensors file loaded ${javascript.length} JavaScript files, ${(javascriptBytes / 1024).toFixed(1)} KiB (minified, uncompressed)`);
  await sizePage.close();
  await page.goto(`${server.origin}/files/harness.html`);

  // Plain JavaScript run in the page (a string: tsx's helpers do not exist there).
  const results = (await page.evaluate(`(${READ_EVERY_FORMAT})(${JSON.stringify(fixtures.files)}, ${JSON.stringify(fixtures.folders)})`)) as PageResult[];

  checkEveryFormat(results);
  assert.deepEqual(pageErrors, []);
  // tensio reads URLs by Range requests only: the only whole-file requests are the page's
  // own fetch() calls that made the Files (one per fixture, one more of one.npz for the
  // conversion, one of one.safetensors for the size measurement).
  const unranged = server.stats.log.filter((entry) => entry.path.startsWith('/files/') && entry.path.includes('.') && !entry.path.endsWith('.html') && entry.range === undefined);
  assert.equal(unranged.length, fixtures.files.length + 2, `whole-file requests: ${unranged.map((entry) => entry.path).join(', ')}`);
});

/** What every browser must report for the fixtures (see READ_EVERY_FORMAT). */
function checkEveryFormat(results: PageResult[]): void {
  const byInput = new Map(results.map((result) => [result.input, result]));
  const expectOk = (input: string, format: string): void => {
    const result = byInput.get(input);
    assert.ok(result, `no result for ${input}`);
    assert.equal(result.error, undefined, `${input}: ${result.error}`);
    assert.equal(result.format, format, input);
    assert.deepEqual(result.values, FIXTURE_VALUES, `${input}: values`);
  };
  const formatOf: Record<string, string> = {
    'one.safetensors': 'safetensors', 'one.npy': 'npy', 'one.npz': 'npz', 'deflated.npz': 'npz', 'one.pt': 'pytorch', 'one.gguf': 'gguf',
    'one.csv': 'csv', 'one.txt': 'txt', 'one.arrow': 'arrow', 'one.feather': 'arrow', 'one.parquet': 'parquet',
  };
  for (const [name, format] of Object.entries(formatOf)) {
    expectOk(`blob:${name}`, format);
    expectOk(`url:${name}`, format);
  }
  // zTensor: XXH3 digests through the TypeScript XXH3 standing in for @node-rs/xxhash.
  expectOk('blob:one.zt', 'zt');
  expectOk('url:one.zt', 'zt');
  // HDF5: on a page's main thread there is no synchronous read of a File for libhdf5 (in
  // a Web Worker there is: test/browser-inspector-access.test.ts), and none of a URL.
  for (const input of ['blob:one.h5', 'url:one.h5']) {
    assert.match(byInput.get(input)?.error ?? '', /^UNSUPPORTED_FEATURE: /, `${input} should be refused in a browser: ${JSON.stringify(byInput.get(input))}`);
  }
  expectOk('url:one.npk/', 'npk');
  expectOk('url:one.zarr', 'zarr');
  const sharded = byInput.get('url:sharded/model.safetensors.index.json');
  assert.equal(sharded?.error, undefined, sharded?.error);
  assert.deepEqual(sharded?.names, ['b', 'w']);
  assert.deepEqual(sharded?.values, FIXTURE_VALUES);
  expectOk('memory:safetensors', 'safetensors');
}

test('the browser bundle reads every format from a Blob and from a URL in headless Firefox ESR (WebDriver BiDi)', { skip: firefoxSkip(), timeout: 240_000 }, async (t) => {
  const { bundle, files, fixtures } = await prepareBrowserFiles(t, 'tensio-browser-firefox-');
  const { server, page, pageErrors } = await openBundlePage(t, { bundle, files }, launchFirefox);
  await page.goto(`${server.origin}/files/harness.html`);
  t.diagnostic(`browser: ${String(await page.evaluate('navigator.userAgent'))}`);
  const results = (await page.evaluate(`(${READ_EVERY_FORMAT})(${JSON.stringify(fixtures.files)}, ${JSON.stringify(fixtures.folders)})`)) as PageResult[];
  checkEveryFormat(results);
  assert.deepEqual(pageErrors, []);
});
