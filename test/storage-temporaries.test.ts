/** Stale temporaries after a kill -9: the next write into the folder removes those of dead processes, never a live one's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTensor } from '../src/index.js';
import { safetensorsWrite } from '../src/formats/safetensors/index.js';
import { TEMPORARY_NAME_PATTERN, removeStaleTemporaries, temporaryPathFor } from '../src/storage/temporary-names.js';
import { tempDir } from './helpers/temp.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('temporary names carry the pid and match the clean-up pattern', () => {
  const name = temporaryPathFor('/data/model.safetensors').split('/').pop()!;
  const match = TEMPORARY_NAME_PATTERN.exec(name);
  assert.ok(match, name);
  assert.equal(match[1], 'model.safetensors');
  assert.equal(Number(match[2]), process.pid);
});

test('a write removes stale tensio temporaries of dead processes and keeps live ones and other files', async (t) => {
  const dir = await tempDir(t);
  const dead = deadPid();
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  t.after(() => sleeper.kill());
  const names = {
    deadFile: `.a.safetensors.tensio-${dead}-0badcafe.tmp`,
    deadFolder: `.store.npk.tensio-${dead}-00c0ffee.tmp`,
    liveOther: `.b.safetensors.tensio-${sleeper.pid}-12345678.tmp`,
    liveSelf: `.c.safetensors.tensio-${process.pid}-87654321.tmp`,
    unrelated: `.d.safetensors.tensio-${dead}-short.tmp`,
    userFile: 'notes.tmp',
  };
  for (const [key, name] of Object.entries(names)) {
    if (key === 'deadFolder') {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, 'data_x.npkd'), 'x');
    } else await writeFile(join(dir, name), 'partial');
  }
  await safetensorsWrite(join(dir, 'new.safetensors'), { w: createTensor('float32', [1], new Float32Array([1])) });
  const left = new Set(await readdir(dir));
  assert.equal(left.has(names.deadFile), false);
  assert.equal(left.has(names.deadFolder), false);
  for (const key of ['liveOther', 'liveSelf', 'unrelated', 'userFile'] as const) assert.equal(left.has(names[key]), true, key);
  assert.equal(left.has('new.safetensors'), true);
  // Once per folder per process; force scans again.
  await writeFile(join(dir, names.deadFile), 'again');
  assert.deepEqual(await removeStaleTemporaries(dir), []);
  assert.deepEqual(await removeStaleTemporaries(dir, { force: true }), [names.deadFile]);
});

test('kill -9 during a write leaves a temporary; the next write into the folder removes it', async (t) => {
  const dir = await tempDir(t);
  // A writer that opens an atomic sink, writes, then SIGKILLs itself before close().
  const script = `
    import { atomicFileSink } from ${JSON.stringify(join(ROOT, 'src/storage/atomic-file-sink.ts'))};
    const sink = await atomicFileSink(${JSON.stringify(join(dir, 'big.safetensors'))});
    await sink.write(new Uint8Array(1 << 20));
    process.kill(process.pid, 'SIGKILL');
  `;
  const killed = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const stale = (await readdir(dir)).filter((name) => TEMPORARY_NAME_PATTERN.test(name));
  assert.equal(stale.length, 1, 'the killed writer left its temporary');
  assert.equal((await readdir(dir)).includes('big.safetensors'), false);
  await safetensorsWrite(join(dir, 'other.safetensors'), { w: createTensor('float32', [1], new Float32Array([1])) });
  assert.deepEqual((await readdir(dir)).sort(), ['other.safetensors']);
});
