/**
 * Issue 16, locks: a store held open for writing is never replaced underneath
 * (`LOCKED`), a stale lock is taken over by exactly one of many concurrent processes,
 * and a lock that cannot be written (ENOSPC) leaves nothing behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTensioError } from '../src/core/errors.js';
import { fromSafetensors } from '../src/io/index.js';
import { npkAcquireLock, npkLockFileSystem, NPK_LOCK_FILE } from '../src/npk/lock.js';
import { NumPack } from '../src/npk/index.js';
import { tempDir } from './helpers/temp.js';
import { runCli, writeWithFormat } from './helpers/cli.js';
import { patternTensor } from './helpers/npk-fixtures.js';

const CHILD = fileURLToPath(new URL('./helpers/npk-lock-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const code = (expected: string) => (error: unknown) => isTensioError(error) && error.code === expected;

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

function startChild(args: string[]): { child: ChildProcess; lines: string[]; waitFor(pattern: RegExp): Promise<void>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    buffer += text;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
    }
    for (const waiter of [...waiters]) if (lines.some((line) => waiter.pattern.test(line))) waiter.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    child, lines, exited,
    waitFor: (pattern) => new Promise<void>((resolve, reject) => {
      if (lines.some((line) => pattern.test(line))) return resolve();
      waiters.push({ pattern, resolve });
      void exited.then((status) => reject(new Error(`child exited (${status}) before printing ${pattern}: ${lines.join(' | ')}`)));
    }),
  };
}

async function race(t: { diagnostic(message: string): void }, root: string, label: string, prepare: (dir: string) => Promise<void>): Promise<void> {
  const TRIALS = 20;
  const PROCESSES = 6;
  const dirs: string[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const dir = join(root, `${label}-${i}`);
    await mkdir(dir);
    await prepare(dir);
    dirs.push(dir);
  }
  // Children load slowly (tsx); they all start trial i at the same instant.
  const start = Date.now() + 6000;
  const children = Array.from({ length: PROCESSES }, () => startChild(['race', dirs.join(','), String(start), '200']));
  try {
    await Promise.all(children.map((c) => c.waitFor(/^done$/)));
  } finally {
    for (const c of children) c.child.stdin!.end();
    await Promise.all(children.map((c) => c.exited));
  }
  for (let i = 0; i < TRIALS; i++) {
    const results = children.map((c) => c.lines.find((line) => line.startsWith(`trial ${i} `))!);
    const winners = results.filter((line) => / WON /.test(line));
    assert.equal(winners.length, 1, `trial ${i} (${label}): exactly one process takes the lock, got ${JSON.stringify(results)}`);
    const nonce = winners[0]!.split(' ')[3];
    const held = JSON.parse(await readFile(join(dirs[i]!, NPK_LOCK_FILE), 'utf8')) as { nonce: string };
    assert.equal(held.nonce, nonce, `trial ${i}: the lock file names the winner`);
    const left = (await readdir(dirs[i]!)).filter((name) => name !== NPK_LOCK_FILE);
    assert.deepEqual(left, [], `trial ${i}: no claim or temporary file left behind`);
  }
  t.diagnostic(`${label}: ${TRIALS} trials x ${PROCESSES} processes, one winner each`);
}

test('lock races: 20 trials x 6 processes, on a free store and on a stale lock, one winner each', async (t) => {
  const root = await tempDir(t);
  const pid = deadPid();
  await race(t, root, 'free', async () => undefined);
  await race(t, root, 'stale', (dir) => writeFile(join(dir, NPK_LOCK_FILE), JSON.stringify({ pid, host: hostname(), nonce: 'aaaaaaaaaaaaaaaaaaaaaaaa' })));
  // A taker that died inside its takeover left a claim: the claim is stale too.
  await race(t, root, 'stale-claim', async (dir) => {
    await writeFile(join(dir, NPK_LOCK_FILE), JSON.stringify({ pid, host: hostname(), nonce: 'bbbbbbbbbbbbbbbbbbbbbbbb' }));
    await writeFile(join(dir, `${NPK_LOCK_FILE}.reap-bbbbbbbbbbbbbbbbbbbbbbbb`), JSON.stringify({ pid, host: hostname(), nonce: 'cccccccccccccccccccccccc' }));
  });
});

test('ENOSPC while writing the lock leaves no lock behind; an empty lock of an older tensio expires', async (t) => {
  const dir = await tempDir(t);
  const original = npkLockFileSystem.writeFile;
  npkLockFileSystem.writeFile = async (path, text) => {
    await writeFile(path, text.slice(0, 3)); // part of it reached the disk
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
  };
  try {
    await assert.rejects(npkAcquireLock(dir), code('IO_ERROR'));
    await assert.rejects(NumPack.open(join(dir, 's.npk')), code('IO_ERROR'));
  } finally {
    npkLockFileSystem.writeFile = original;
  }
  assert.deepEqual(await readdir(dir), ['s.npk']);
  assert.deepEqual(await readdir(join(dir, 's.npk')), []);
  const lock = await npkAcquireLock(dir);
  await lock.release();
  // The old code's failure mode: an empty .lock. Held while fresh (it may be being written), stale after 10 s.
  await writeFile(join(dir, NPK_LOCK_FILE), '');
  await assert.rejects(npkAcquireLock(dir), code('LOCKED'));
  const old = new Date(Date.now() - 60_000);
  await utimes(join(dir, NPK_LOCK_FILE), old, old);
  const taken = await npkAcquireLock(dir);
  await taken.release();
  assert.deepEqual(await readdir(dir), ['s.npk']);
});

test('convert --force and fromX({ dropIfExists }) onto a store another process writes fail with LOCKED and change nothing; readers wait out a live publish', async (t) => {
  const dir = await tempDir(t);
  const store = join(dir, 'out.npk');
  {
    await using npk = await NumPack.open(store, { durable: false });
    await npk.save({ a: patternTensor('int32', [4, 2], 1) });
  }
  await writeWithFormat('safetensors', join(dir, 'in.safetensors'), { b: patternTensor('float32', [3], 2) });
  const holder = startChild(['hold', store]);
  try {
    await holder.waitFor(/^holding$/);
    const run = await runCli(['convert', 'in.safetensors', 'out.npk', '--force'], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /LOCKED/);
    await assert.rejects(fromSafetensors({ c: patternTensor('uint8', [2], 3) }, store, { dropIfExists: true }), code('LOCKED'));
    {
      await using reader = await NumPack.open(store, { readOnly: true });
      assert.deepEqual(reader.getMemberList(), ['a']);
      assert.deepEqual(await reader.load('a'), patternTensor('int32', [4, 2], 1));
    }
    // A publish in progress by the live writer: readers wait for its roll-forward, a few seconds at most.
    const intent = join(store, '.tensio-publish');
    await writeFile(intent, JSON.stringify({ version: 1, id: '0123456789ab', catalogue: 'metadata.npkm.tensio-staged-0123456789ab', replace: [], remove: [] }));
    const waiting = NumPack.open(store, { readOnly: true });
    setTimeout(() => void unlink(intent), 300);
    const reader = await waiting;
    assert.deepEqual(reader.getMemberList(), ['a']);
    await reader.close();
    await writeFile(intent, JSON.stringify({ version: 1, id: '0123456789ab', catalogue: 'metadata.npkm.tensio-staged-0123456789ab', replace: [], remove: [] }));
    await assert.rejects(NumPack.open(store, { readOnly: true }), code('LOCKED'));
    await unlink(intent);
  } finally {
    holder.child.stdin!.end();
    await holder.exited;
  }
  const run = await runCli(['convert', 'in.safetensors', 'out.npk', '--force'], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  await using reader = await NumPack.open(store, { readOnly: true });
  assert.deepEqual(reader.getMemberList(), ['b']);
});
