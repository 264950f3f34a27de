/**
 * `tensio view`: serves the built inspector and the given file on 127.0.0.1, prints the
 * address (text or --json), serves the file with Range support, refuses what is outside
 * its mounts, stops on Ctrl-C (130); a missing PATH is NOT_FOUND (1), a bad --port a
 * usage error (2), a missing bundle NOT_FOUND with the command that builds it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import type { CliIO } from '../src/cli/types.js';
import { runCli, cliErrorCode } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

/** A stand-in bundle: view serves whatever folder holds inspector/index.html. */
function fakeBundle(dir: string): string {
  const bundle = join(dir, 'bundle');
  mkdirSync(join(bundle, 'inspector'), { recursive: true });
  writeFileSync(join(bundle, 'inspector', 'index.html'), '<!doctype html><title>inspector</title>\n');
  return bundle;
}

test('tensio view PATH serves the inspector and the file until Ctrl-C', async (t) => {
  const dir = await tempDir(t);
  const bundle = fakeBundle(dir);
  const file = join(dir, 'model one.safetensors');
  writeFileSync(file, new Uint8Array(1000).map((_, i) => i % 251));
  let stdout = '';
  const controller = new AbortController();
  const io: CliIO = { stdout: (text) => { stdout += text; }, stderr: () => {}, isTTY: false, env: {}, cwd: dir, signal: controller.signal };
  const running = main(['view', 'model one.safetensors', '--json', '--bundle', bundle], io);
  while (!stdout.includes('\n')) await new Promise((resolve) => setTimeout(resolve, 20));
  const { url, origin } = JSON.parse(stdout) as { url: string; origin: string };
  assert.match(origin, /^http:\/\/127\.0\.0\.1:\d+$/);
  const opened = new URL(url).searchParams.get('url')!;
  assert.equal(opened, `${origin}/files/model%20one.safetensors`);
  assert.match(await (await fetch(url)).text(), /<title>inspector<\/title>/);
  const ranged = await fetch(opened, { headers: { Range: 'bytes=10-19' } });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers.get('content-range'), 'bytes 10-19/1000');
  assert.deepEqual([...new Uint8Array(await ranged.arrayBuffer())], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  assert.equal((await fetch(`${origin}/files/other.safetensors`)).status, 404);
  assert.equal((await fetch(`${origin}/inspector/..%2F..%2Fmodel%20one.safetensors`)).status, 404);
  assert.equal((await fetch(opened, { headers: { Range: 'bytes=5000-' } })).status, 416);
  controller.abort();
  assert.equal(await running, 130);
});

test('tensio view: a missing PATH, a bad --port, a missing bundle', async (t) => {
  const dir = await tempDir(t);
  const bundle = fakeBundle(dir);
  const missing = await runCli(['view', 'nope.safetensors', '--bundle', bundle], { cwd: dir });
  assert.equal(missing.code, 1);
  assert.equal(cliErrorCode(missing.stderr), 'NOT_FOUND');
  const port = await runCli(['view', '--port', 'abc', '--bundle', bundle], { cwd: dir });
  assert.equal(port.code, 2);
  const noBundle = await runCli(['view', '--bundle', join(dir, 'empty')], { cwd: dir });
  assert.equal(noBundle.code, 1);
  assert.match(noBundle.stderr, /npm run build:browser/);
});
