/**
 * Headless Chromium for the browser tests: Debian's `/usr/bin/chromium` (or
 * `TENSIO_CHROMIUM`) driven by puppeteer-core — nothing downloads a browser. Also builds
 * the browser bundle into a temporary folder and writes one small file of every format
 * (with tensio's Node writers) for the page to read.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { tempDir } from './temp.js';
import { convert, createTensor } from '../../src/index.js';
import { safetensorsWrite } from '../../src/formats/safetensors/index.js';
import { startStaticServer, type StaticServer } from '../../src/storage/static-server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Chromium binary used, when there is one. */
export const chromiumPath = [process.env.TENSIO_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => path && existsSync(path));

/** A skip reason when headless Chromium cannot run here, else false. */
export function chromiumSkip(): string | false {
  return chromiumPath ? false : 'skipped: no Chromium at /usr/bin/chromium (apt-get install chromium, or set TENSIO_CHROMIUM)';
}

/** Starts headless Chromium (no sandbox: CI runs as root in a container). */
export async function launchChromium(): Promise<Browser> {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    executablePath: chromiumPath!,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
  });
}

/** Firefox ESR (Debian's `firefox-esr`, or `TENSIO_FIREFOX`), when there is one. */
export const firefoxPath = [process.env.TENSIO_FIREFOX, '/usr/bin/firefox-esr', '/usr/bin/firefox'].find((path) => path && existsSync(path));

/** A skip reason when headless Firefox cannot run here, else false. */
export function firefoxSkip(): string | false {
  return firefoxPath ? false : 'skipped: no Firefox at /usr/bin/firefox-esr (apt-get install firefox-esr, or set TENSIO_FIREFOX)';
}

/** Starts headless Firefox, driven over WebDriver BiDi (no download: the Debian package). */
export async function launchFirefox(): Promise<Browser> {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({ browser: 'firefox', executablePath: firefoxPath!, headless: true, protocol: 'webDriverBiDi', timeout: 120_000 });
}

/** Builds the browser bundle (and the inspector) into `outdir`. */
export function buildBrowserBundle(outdir: string): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-browser.mjs'), `--outdir=${outdir}`], { cwd: ROOT, stdio: 'pipe' });
}

/** The values of the fixture tensor `w` (float32, shape [4, 3]). */
export const FIXTURE_VALUES = [1, -2, 3.5, 0, 5, 6, 7, 8, 9, 10, 11, -12];

/**
 * One file of each format holding `w` (float32 [4, 3]), written by tensio in Node:
 * safetensors, npy, npz (stored and deflated), pt, gguf, zt, csv, txt, arrow, feather,
 * parquet, hdf5; folders: a NumPack store, a Zarr group and a sharded safetensors
 * checkpoint (`sharded/model.safetensors.index.json`, two shards).
 */
export async function writeFormatFixtures(dir: string): Promise<{ files: string[]; folders: string[] }> {
  mkdirSync(dir, { recursive: true });
  const w = new Float32Array(FIXTURE_VALUES);
  const b = new Float32Array([0.5, 0.25, -1]);
  await safetensorsWrite(join(dir, 'one.safetensors'), { w: createTensor('float32', [4, 3], new Uint8Array(w.buffer)) });
  await safetensorsWrite(join(dir, 'two.safetensors'), { w: createTensor('float32', [4, 3], new Uint8Array(w.buffer)), b: createTensor('float32', [3], new Uint8Array(b.buffer)) });
  const files = ['one.safetensors'];
  for (const ext of ['npy', 'npz', 'pt', 'gguf', 'zt', 'csv', 'txt', 'arrow', 'feather', 'parquet', 'h5']) {
    await convert(join(dir, 'one.safetensors'), join(dir, `one.${ext}`));
    files.push(`one.${ext}`);
  }
  await convert(join(dir, 'one.safetensors'), join(dir, 'deflated.npz'), { writeOptions: { compress: true } as never });
  files.push('deflated.npz');
  await convert(join(dir, 'one.safetensors'), join(dir, 'one.npk'));
  await convert(join(dir, 'one.safetensors'), join(dir, 'one.zarr'));
  mkdirSync(join(dir, 'sharded'), { recursive: true });
  await convert(join(dir, 'two.safetensors'), join(dir, 'sharded', 'model.safetensors.index.json'), { writeOptions: { maxShardBytes: 40 } as never });
  writeFileSync(join(dir, 'harness.html'), '<!doctype html><meta charset="utf-8"><title>tensio harness</title><body></body>\n');
  return { files, folders: ['one.npk/', 'one.zarr', 'sharded/model.safetensors.index.json'] };
}

/**
 * A temporary folder (removed after the test) holding the built bundle in `bundle/` and
 * one small file of every format in `files/`: the setup every browser test starts from.
 */
export async function prepareBrowserFiles(t: { after(fn: () => unknown): void }, prefix: string): Promise<{ dir: string; bundle: string; files: string; fixtures: { files: string[]; folders: string[] } }> {
  const dir = await tempDir(t, prefix);
  const bundle = join(dir, 'bundle');
  const files = join(dir, 'files');
  buildBrowserBundle(bundle);
  const fixtures = await writeFormatFixtures(files);
  return { dir, bundle, files, fixtures };
}

/**
 * Serves `files` at `/files/` and the bundle at `/`, starts a browser (Chromium unless
 * `launch` says otherwise) and opens a page that records its uncaught errors in
 * `pageErrors`; the server and the browser close after the test.
 */
export async function openBundlePage(
  t: { after(fn: () => unknown): void },
  paths: { bundle: string; files: string },
  launch: () => Promise<Browser> = launchChromium,
): Promise<{ server: StaticServer; browser: Browser; page: Page; pageErrors: string[] }> {
  const server = await startStaticServer([{ prefix: '/files/', path: paths.files }, { prefix: '/', path: paths.bundle }]);
  t.after(() => server.close());
  const browser = await launch();
  t.after(() => browser.close());
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  return { server, browser, page, pageErrors };
}
