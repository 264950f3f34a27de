/**
 * Bounded cost on hostile pickles (issue 16, regressions 3–9 and 13): every construct
 * ends in a result or a TensioError code, with work and memory in proportion to the
 * file, no recursion the input can drive past the stack, and Ctrl-C honoured.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdir, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTensioError, openTensorFile } from '../src/index.js';
import { PickleDict, PickleTuple, pickleRun, pytorchPickleHooks, pytorchStorageFromId } from '../src/formats/pytorch/index.js';
import { pickleRunAsync } from '../src/formats/pytorch/pickle/machine.js';
import { binUnicode, craftCheckpoint, pickleBytes } from './helpers/pytorch-craft.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';
import { tempDir } from './helpers/temp.js';

const hooks = pytorchPickleHooks({ loadStorage: (id, at) => pytorchStorageFromId(id, at) });
const run = (bytes: Uint8Array, options: { maxPickleWork?: number } = {}) => pickleRun(bytes, { hooks, format: 'pytorch', ...options });
const root = fileURLToPath(new URL('..', import.meta.url));
const child = fileURLToPath(new URL('./helpers/open-files-child.ts', import.meta.url));

/** What the regression README expects of each file: read (with this many tensors) or refused with this code. */
const REGRESSIONS: Array<[file: string, expected: number | string]> = [
  ['frozenset_big.pt', 1],
  ['additems_big.pt', 1],
  ['set_reduce_big.pt', 1],
  ['device_nested.pt', 'INVALID_PICKLE'],
  ['device_exponential.pt', 'INVALID_PICKLE'],
  ['layout_exponential.pt', 'INVALID_PICKLE'],
  ['dictkey_repeat.pt', 1],
  ['dictkey_distinct.pt', 1],
  ['keysegment_meta.pt', 0],
  ['torch_flat_views_3000.pt', 3000],
  ['torch_flat_views_20000.pt', 20000],
  ['many_tied_tensors.pt', 20000],
];
const files = REGRESSIONS.map(([file]) => `regressions/${file}`);

test('regressions 3-9: each hostile pickle is read or refused with a code, in a child with a 160 MB heap', { skip: sharedSkip(...files) }, (t) => {
  const paths = files.map((file) => sharedFile(file)!);
  // The timeout only bounds a hang; the per-file milliseconds are reported, not asserted.
  const result = spawnSync(process.execPath, ['--max-old-space-size=160', '--import', 'tsx', child, ...paths], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  assert.equal(result.status, 0, `child ended with ${result.status ?? result.signal}: ${result.stderr.slice(-2000)}`);
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, REGRESSIONS.length);
  REGRESSIONS.forEach(([file, expected], i) => {
    const line = lines[i]!;
    t.diagnostic(`${file}: ${line.outcome} ${line.code ?? line.tensors} in ${line.ms} ms, rss ${line.rssMB} MB`);
    if (typeof expected === 'number') {
      assert.equal(line.outcome, 'ok', `${file}: ${JSON.stringify(line)}`);
      assert.equal(line.tensors, expected, file);
    } else {
      assert.equal(line.outcome, 'error', `${file}: ${JSON.stringify(line)}`);
      assert.equal(line.code, expected, file);
      assert.ok((line.messageLength as number) < 1000, `${file}: message of ${line.messageLength} chars`);
    }
  });
});

test('regression 9: views of one storage list a bounded sample of the others, and count them', { skip: sharedSkip('regressions/torch_flat_views_3000.pt') }, async () => {
  await using reader = await openTensorFile(sharedFile('regressions/torch_flat_views_3000.pt')!);
  assert.equal(reader.tensors.length, 3000);
  for (const info of [reader.tensors[0]!, reader.tensors[2999]!]) {
    const shared = info.extras!.sharedWith as string[];
    assert.ok(shared.length > 0 && shared.length <= 8, `${shared.length} names listed`);
    assert.ok(!shared.includes(info.name));
    assert.equal(info.extras!.sharedCount, 2999);
  }
});

/** `torch.save`-like zip around a data.pkl whose value is `{'x': <ops>}` (no tensors). */
function checkpointOf(ops: Uint8Array): Uint8Array {
  return craftCheckpoint(pickleBytes(0x80, 2, '}', binUnicode('x'), ops, 's.'));
}

test('a set of 300,000 items is read (no spread into push, no recursion)', () => {
  const n = 300_000;
  for (const body of [pickleBytes('(', 'N'.repeat(n), 0x91), pickleBytes(0x8f, '(', 'N'.repeat(n), 0x90), pickleBytes('cbuiltins\nset\n(](', 'N'.repeat(n), 'etR')]) {
    const { value } = run(pickleBytes(0x80, 2, body, '.'));
    assert.equal((value as { items: unknown[] }).items.length, n);
  }
});

test('torch.device and _get_layout take names only: nested or shared lists are refused without being expanded', () => {
  const depth = 100_000;
  const nested = pickleBytes(0x80, 2, 'ctorch\ndevice\n(', ']'.repeat(depth), 'a'.repeat(depth - 1), 'tR.');
  assert.throws(() => run(nested), (err) => isTensioError(err, 'INVALID_PICKLE') && (err as Error).message.length < 1000);
  // L0 = [None]*10, Lk = [Lk-1]*10: 10^10 leaves from a few hundred bytes.
  const parts: Array<number | string> = [0x80, 2, '](', 'N'.repeat(10), 'e', 'q', 0];
  for (let k = 1; k < 10; k++) parts.push('](', `h${String.fromCharCode(k - 1)}`.repeat(10), 'e', 'q', k);
  for (const callable of ['ctorch\ndevice\n', 'ctorch.serialization\n_get_layout\n']) {
    assert.throws(() => run(pickleBytes(...parts, '0', callable, '(h', 9, 'tR.')), (err) => isTensioError(err, 'INVALID_PICKLE') && (err as Error).message.length < 1000);
  }
  assert.equal(run(pickleBytes(0x80, 2, 'ctorch\ndevice\n', binUnicode('cuda'), 'K', 1, 0x86, 'R.')).value, 'cuda:1');
});

/** T0 = (None, None), Tk = (Tk-1, Tk-1), memoized at k: 2^(levels+1) - 1 values from ~6 bytes a level. */
function tupleChain(levels: number): Array<number | string> {
  const parts: Array<number | string> = ['NN', 0x86, 'q', 0];
  for (let k = 1; k < levels; k++) parts.push('h', k - 1, 'h', k - 1, 0x86, 'q', k);
  return parts;
}

test('regression 6 at 400 KB: the same 65,535-value key set 100,000 times is hashed once', () => {
  const m = 100_000;
  const ops = pickleBytes(0x80, 2, ...tupleChain(15), '0}', Buffer.from('h\x0eNs'.repeat(m), 'latin1'), '.');
  const { value } = run(ops);
  assert.ok(value instanceof PickleDict);
  assert.equal(value.size, 1);
});

test('dict keys compare as in Python: 1 == 1.0 == True, equal tuples built apart, frozensets in any order', () => {
  // {1: a, 1.0: b, True: c, (1, 'x'): d, (1.0, 'x'): e, frozenset({1, 2}): f, frozenset({2, 1, 1}): g}
  const { value } = run(pickleBytes(
    0x80, 2, '}(',
    'K', 1, 'N', 'G', Buffer.from([0x3f, 0xf0, 0, 0, 0, 0, 0, 0]), 'N', 0x88, 'N',
    'K', 1, binUnicode('x'), 0x86, 'N', 'G', Buffer.from([0x3f, 0xf0, 0, 0, 0, 0, 0, 0]), binUnicode('x'), 0x86, 'N',
    '(K', 1, 'K', 2, 0x91, 'N', '(K', 2, 'K', 1, 'K', 1, 0x91, 'N',
    'u.',
  ));
  assert.ok(value instanceof PickleDict);
  assert.equal(value.size, 3);
  assert.ok(value.keys[1] instanceof PickleTuple);
});

test('a set() of one big list repeated past the work budget ends in LIMIT_EXCEEDED; maxPickleWork raises it', () => {
  // L = [None] * 10,000, then frozenset(L) 1,000 times: 10 M items copied from a 16 KB pickle.
  const once = pickleBytes('cbuiltins\nfrozenset\n', 'h', 0, 0x85, 'R0');
  const bytes = pickleBytes(0x80, 2, '](', 'N'.repeat(10_000), 'e', 'q', 0, '0', Buffer.concat(Array.from({ length: 1000 }, () => Buffer.from(once))), 'N.');
  assert.throws(() => run(bytes), (err) => isTensioError(err, 'LIMIT_EXCEEDED'));
  assert.equal(run(bytes, { maxPickleWork: 20_000_000 }).value, null);
});

test('metadata nested 100,000 deep ends in LIMIT_EXCEEDED, not a stack overflow; a 100,000-deep tuple key is hashed iteratively', async (t) => {
  const dir = await tempDir(t);
  const depth = 100_000;
  const nested = join(dir, 'nested.pt');
  await writeFile(nested, checkpointOf(pickleBytes(']'.repeat(depth), 'a'.repeat(depth - 1))));
  await assert.rejects(openTensorFile(nested), (err) => isTensioError(err, 'LIMIT_EXCEEDED'));
  const key = run(pickleBytes(0x80, 2, '}', 'N', Buffer.alloc(depth, 0x85), 'Ns.'));
  assert.ok(key.value instanceof PickleDict && key.value.size === 1);
});

test('pickleRunAsync stops with ABORTED when its signal fires mid-parse', async () => {
  const bytes = pickleBytes(0x80, 2, Buffer.from('N0'.repeat(2_000_000), 'latin1'), 'N.');
  const before = new AbortController();
  before.abort();
  await assert.rejects(pickleRunAsync(bytes, { hooks, signal: before.signal }), (err) => isTensioError(err, 'ABORTED'));
  const during = new AbortController();
  setImmediate(() => during.abort());
  await assert.rejects(pickleRunAsync(bytes, { hooks, signal: during.signal }), (err) => isTensioError(err, 'ABORTED'));
});

test('tensio inspect honours SIGTERM during a long pickle parse (exit 130)', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'long.pt');
  // 100 M opcodes: seconds of parsing on any machine.
  await writeFile(path, checkpointOf(pickleBytes(Buffer.from('N0'.repeat(50_000_000), 'latin1'), 'N')));
  const bin = fileURLToPath(new URL('../src/bin/tensio.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', bin, 'inspect', path], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  // Wait until it has the file open (Linux: /proc; elsewhere a fixed delay), then ask it to stop mid-parse.
  await waitForOpenFile(proc.pid!, path);
  await new Promise((resolve) => setTimeout(resolve, 300));
  proc.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => proc.on('close', (status) => resolve(status)));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /ABORTED/);
});

/** Resolves once process `pid` holds `path` open (polling /proc), or after 5 s where /proc is absent. */
async function waitForOpenFile(pid: number, path: string): Promise<void> {
  for (let waited = 0; waited < 60_000; waited += 50) {
    try {
      const fds = await readdir(`/proc/${pid}/fd`);
      for (const fd of fds) if (await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '') === path) return;
    } catch {
      if (waited === 0) return new Promise((resolve) => setTimeout(resolve, 5000));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('regression 13: 8 M stack items (8 MB pickles of None, empty dicts, empty tuples) are read in a 700 MB heap', async (t) => {
  // Python's pickle.loads takes +61 MB (None, tuples: singletons) and +551 MB (dicts: 64 B each)
  // on these; before the fix tensio ran out of a 1 GB heap on the dicts (three Maps and two
  // arrays per empty dict) and took 750 MB on the tuples.
  const dir = await tempDir(t);
  const n = 8_000_000;
  const variants = { none: 'N', dicts: '}', tuples: ')' };
  const paths = await Promise.all(Object.entries(variants).map(async ([name, op]) => {
    const path = join(dir, `${name}.pt`);
    await writeFile(path, craftCheckpoint(pickleBytes(0x80, 2, op.repeat(n), '.')));
    return path;
  }));
  const result = spawnSync(process.execPath, ['--max-old-space-size=700', '--import', 'tsx', child, ...paths], { cwd: root, encoding: 'utf8', timeout: 600_000 });
  assert.equal(result.status, 0, `child ended with ${result.status ?? result.signal}: ${result.stderr.slice(-2000)}`);
  const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, paths.length);
  for (const line of lines) {
    t.diagnostic(`${line.path}: ${line.outcome} in ${line.ms} ms, rss ${line.rssMB} MB`);
    // Read (the pickle's value is its last item; the others are left on the stack, as Python leaves them).
    assert.equal(line.outcome, 'ok', JSON.stringify(line));
  }
});
