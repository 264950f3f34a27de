/**
 * Issue 16: every multi-step publish of a NumPack store is killed (SIGKILL) right after
 * each of its steps, in a child process, and the store must then hold the old content or
 * the new, never a mix or nothing; once the commit point is passed, always the new. The
 * crash points are the named steps of the publish (TENSIO_TEST_CRASH_AFTER=npk-publish:k,
 * see src/npk/crash-points.ts), so every step is hit, not random instants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NumPack } from '../src/npk/index.js';
import { verifyTensorFile } from '../src/operations/index.js';
import { tempDir } from './helpers/temp.js';
import { CRASH_SCENARIOS, storeOf } from './helpers/npk-crash-scenarios.js';

const CHILD = fileURLToPath(new URL('./helpers/npk-crash-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The store: names, dtypes, logical shapes and bytes, plus physical shapes and deleted rows. */
async function contentOf(path: string): Promise<string> {
  await using npk = await NumPack.open(path, { readOnly: true });
  const out: Record<string, string> = {};
  const meta = npk.getMetadata().arrays;
  for (const name of npk.getMemberList().sort()) {
    const tensor = await npk.load(name);
    out[name] = `${tensor.dtype}[${tensor.shape.join(',')}] physical [${meta[name]!.shape.join(',')}] -${meta[name]!.deletedRows}: ${Buffer.from(tensor.data).toString('hex')}`;
  }
  return JSON.stringify(out);
}

function runChild(scenario: string, dir: string, crashAt: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', CHILD, scenario, dir], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, TENSIO_TEST_CRASH_AFTER: `npk-publish:${crashAt}` }, timeout: 120_000,
  });
}

/** Runs the child asynchronously; resolves with how it ended. */
function killedChild(scenario: string, dir: string, crashAt: number): Promise<{ signal: NodeJS.Signals | null; status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, scenario, dir], {
      cwd: ROOT, env: { ...process.env, TENSIO_TEST_CRASH_AFTER: `npk-publish:${crashAt}` }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text; });
    child.on('exit', (status, signal) => resolve({ status, signal, stderr }));
  });
}

/** Runs `work` over `items` with at most `limit` at a time (children mostly wait on start-up). */
async function pooled<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  }));
  return results;
}

for (const [name, scenario] of Object.entries(CRASH_SCENARIOS)) {
  test(`kill -9 after every step of: ${name}`, async (t) => {
    const root = await tempDir(t);
    // A full run lists the steps and gives the new content.
    const reference = join(root, 'reference');
    await mkdir(reference);
    await scenario.setup(reference);
    const before = await contentOf(storeOf(reference));
    const listing = runChild(name, reference, 'list');
    assert.equal(listing.status, 0, listing.stderr);
    const steps = [...listing.stderr.matchAll(/^crash-point (\d+) (.*)$/gm)].map((match) => match[2]!);
    assert.ok(steps.length >= 3, `expected several publish steps, got ${JSON.stringify(steps)}`);
    const after = await contentOf(storeOf(reference));
    assert.notEqual(after, before, 'the scenario changes the store');

    const matrix: string[] = [];
    let committed = false;
    const ks = steps.map((_, index) => index + 1);
    const dirs = new Map<number, string>();
    for (const k of ks) {
      const dir = join(root, `k${k}`);
      await mkdir(dir);
      await scenario.setup(dir);
      dirs.set(k, dir);
    }
    const runs = await pooled(ks, 3, (k) => killedChild(name, dirs.get(k)!, k));
    for (const k of ks) {
      const dir = dirs.get(k)!;
      const run = runs[k - 1]!;
      assert.equal(run.signal, 'SIGKILL', `step ${k} (${steps[k - 1]}): the child should die by SIGKILL; status ${run.status}, stderr ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`crash-point ${k} .*killing`));
      // Reading first: a reader finishes a committed publish on its own.
      const seen = await contentOf(storeOf(dir));
      const outcome = seen === before ? 'old' : seen === after ? 'new' : 'MIX';
      matrix.push(`${String(k).padStart(2)} ${steps[k - 1]!.padEnd(40)} ${outcome}`);
      assert.notEqual(outcome, 'MIX', `step ${k} (${steps[k - 1]}) left neither the old nor the new store`);
      if (committed) assert.equal(outcome, 'new', `step ${k} (${steps[k - 1]}): went back to the old store after a commit`);
      committed ||= outcome === 'new';
      // A writer's open removes leftovers of an uncommitted publish; then the store verifies clean.
      const writer = await NumPack.open(storeOf(dir));
      // ... and cuts rows an interrupted append left past the catalogue's count (NumPack's
      // O_APPEND append would otherwise land after them): a plain file holds exactly its rows.
      for (const [array, meta] of Object.entries(writer.getMetadata().arrays)) {
        if (!meta.dataFile.endsWith('.npkseg')) assert.equal(statSync(join(storeOf(dir), meta.dataFile)).size, meta.sizeBytes, `step ${k}: data file of ${array} after a writer's open`);
      }
      await writer.close();
      const left = (await readdir(storeOf(dir))).filter((file) => file.includes('.tensio-') || file.startsWith('.lock'));
      assert.deepEqual(left, [], `step ${k}: leftovers after recovery`);
      const report = await verifyTensorFile(storeOf(dir));
      assert.ok(report.ok, `step ${k}: verify after recovery: ${JSON.stringify(report.problems)}`);
      assert.equal(await contentOf(storeOf(dir)), seen);
    }
    assert.ok(committed, 'the last step leaves the new store');
    t.diagnostic(`${name}: ${steps.length} steps\n${matrix.join('\n')}`);
  });
}
