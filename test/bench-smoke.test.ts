/**
 * Smoke test of the benchmark harness: a tiny `--quick` run of the safetensors and npy
 * benchmarks must exit 0 and print ratio rows. No timing is asserted (machines are noisy);
 * the real benchmark runs only with `npm run bench`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

test('bench/run.ts --quick --only safetensors,npy exits 0 and prints ratio rows', () => {
  const result = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/run.ts', '--quick', '--only', 'safetensors,npy', '--size-mib', '2'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 16 * 2 ** 20,
  });
  assert.equal(result.status, 0, `bench exited ${result.status}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-2000)}`);
  const ratioRows = result.stdout.split('\n').filter((line) => /\|\s*\d+\.\d+x\s*\|/.test(line));
  assert.ok(ratioRows.length > 0, `no ratio rows in:\n${result.stdout.slice(-3000)}`);
  assert.match(result.stdout, /== summary: /);
  assert.match(result.stdout, /== npy \(2 MiB\) ==/);
});

test('the mmap bench\'s sum kernels (JS 1, 4 and 8 accumulators, WebAssembly SIMD) give the same sums as a plain loop', async () => {
  const { sumFloat64Scalar, sumFloat64Unrolled, sumFloat64Unrolled8, sumFloat64Wasm } = await import('../bench/lib/sum.js');
  // Small integers: every order of addition is exact, so the kernels must agree to the bit.
  for (const words of [0, 1, 7, 8, 9, 63, 64, 65, 32_768, 32_768 * 3 + 5]) {
    const values = Float64Array.from({ length: words + 1 }, (_, index) => (index % 17) - 3);
    for (const startWord of [0, 1]) {
      const bytes = new Uint8Array(values.buffer, startWord * 8, words * 8);
      let expected = 0;
      for (let index = startWord; index < startWord + words; index++) expected += values[index]!;
      assert.deepEqual([sumFloat64Scalar(bytes), sumFloat64Unrolled(bytes), sumFloat64Unrolled8(bytes), sumFloat64Wasm(bytes)], [expected, expected, expected, expected], `${words} words from word ${startWord}`);
    }
  }
  // A misaligned start is skipped to the next float64 word by all four.
  const misaligned = new Uint8Array(new Float64Array([1, 2, 3, 4]).buffer, 3, 29);
  assert.deepEqual([sumFloat64Scalar(misaligned), sumFloat64Unrolled(misaligned), sumFloat64Unrolled8(misaligned), sumFloat64Wasm(misaligned)], [9, 9, 9, 9]);
});

test('the A/B tools\' command line takes its options, leaves the files, and refuses what it does not know', async () => {
  const { AbArgs } = await import('../bench/lib/ab-rounds.js');
  const args = new AbArgs(['a.parquet', '--rounds', '9', '--no-sum', '--only', 'x,y', 'b.parquet', '--a', '/tmp/a']);
  assert.equal(args.number('--rounds', 5), 9);
  assert.equal(args.number('--size-mib', 256), 256);
  assert.equal(args.flag('--no-sum'), true);
  assert.equal(args.flag('--npy'), false);
  assert.deepEqual(args.list('--only'), new Set(['x', 'y']));
  assert.equal(args.list('--groups'), undefined);
  assert.equal(args.string('--a', '.'), '/tmp/a');
  assert.deepEqual(args.rest(), ['a.parquet', 'b.parquet']);
  assert.throws(() => new AbArgs(['--round', '9']).rest(), /unknown option --round/);
  assert.throws(() => new AbArgs(['--rounds', 'nine']).number('--rounds', 5), /--rounds takes a positive number, not "nine"/);
  assert.throws(() => new AbArgs(['--rounds', '0']).number('--rounds', 5), /positive number/);
  assert.throws(() => new AbArgs(['--rounds']).number('--rounds', 5), /--rounds needs a value/);
});

test('abRounds runs every contender once a round in rotating order, the first round untimed, and collects before each run', async () => {
  const { abRounds, abMedians } = await import('../bench/lib/ab-rounds.js');
  const global = globalThis as { gc?: () => void };
  const saved = global.gc;
  const events: string[] = [];
  global.gc = () => events.push('gc');
  try {
    const samples = await abRounds({
      names: ['a', 'b', 'c'],
      rounds: 2,
      groups: ['x', 'y'],
      before: (name, group) => events.push(`before ${group} ${name}`),
      run: async (name, group) => { events.push(`run ${group} ${name}`); return `${group}${name}`; },
      after: (name, group, result) => events.push(`after ${result}`),
    });
    const runs = events.filter((event) => event.startsWith('run ')).map((event) => event.slice(4).replace(' ', ''));
    // Round r starts at contender r (mod 3), for each group in turn; round 0 is the warm-up.
    assert.deepEqual(runs, ['xa', 'xb', 'xc', 'ya', 'yb', 'yc', 'xb', 'xc', 'xa', 'yb', 'yc', 'ya', 'xc', 'xa', 'xb', 'yc', 'ya', 'yb']);
    assert.deepEqual(events.slice(0, 4), ['before x a', 'gc', 'run x a', 'after xa']);
    assert.equal(events.filter((event) => event === 'gc').length, 18);
    assert.deepEqual([...samples.keys()], ['x: a', 'x: b', 'x: c', 'y: a', 'y: b', 'y: c']);
    for (const list of samples.values()) {
      assert.equal(list.length, 2);
      const medians = abMedians(list);
      for (const value of [medians.wall, medians.cpu, medians.js, medians.faults]) assert.ok(Number.isFinite(value) && value >= 0);
    }
  } finally {
    global.gc = saved;
  }
});

test('FreeMemoryWarmer warms the bytes it is given before each run, none with TENSIO_BENCH_NO_WARM=1, and its log line says which', async () => {
  const { FreeMemoryWarmer, NO_WARM_ENV } = await import('../bench/lib/warm-memory.js');
  const saved = process.env[NO_WARM_ENV];
  try {
    process.env[NO_WARM_ENV] = '1';
    const off = new FreeMemoryWarmer(4 * 2 ** 20);
    assert.equal(off.bytes, 0);
    await off.warm();
    assert.match(off.describe('group'), /^group: no warm-up before the contenders \(TENSIO_BENCH_NO_WARM set\)/);
    process.env[NO_WARM_ENV] = '0';
    const on = new FreeMemoryWarmer(4 * 2 ** 20);
    assert.equal(on.bytes, 4 * 2 ** 20);
    await on.warm();
    await on.warm();
    assert.match(on.describe('group'), /^group: free memory warmed \(4 MiB, untimed\) before each of 2 runs: median \d+ ms, max \d+ ms/);
    assert.equal(on.describe('group'), 'group: no warm-up ran', 'the count restarts after each log line');
  } finally {
    if (saved === undefined) delete process.env[NO_WARM_ENV];
    else process.env[NO_WARM_ENV] = saved;
  }
});

test('the table groups\' Python peers answer in the long-lived worker: every timed op gives seconds, the writers write from the loaded table', async (t) => {
  const { findOraclePython, PythonPeers } = await import('../bench/lib/python.js');
  const { python, reason } = findOraclePython();
  if (!python) {
    t.skip(reason);
    return;
  }
  const { mkdtempSync, rmSync, statSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'tensio-table-peers-'));
  const peers = await PythonPeers.start(python);
  try {
    // A (4, 32) float32 .npy: 10-byte prefix, header padded to 64 bytes, 512 bytes of data.
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 32), }";
    const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
    const prefix = Buffer.alloc(10);
    prefix.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    prefix.writeUInt16LE(padded.length, 8);
    const npy = join(dir, 'table.npy');
    writeFileSync(npy, Buffer.concat([prefix, Buffer.from(padded), Buffer.from(new Float32Array(128).map((_, i) => i / 4).buffer)]));
    const loaded = await peers.call('tables.load_source', { path: npy });
    assert.match(String(loaded.versions?.pyarrow), /^\d+\./);
    const file = (name: string) => join(dir, name);
    const writes: [string, string, Record<string, unknown>][] = [
      ['pq.write_table', 'a.parquet', { compression: 'zstd', level: 1 }],
      ['feather.write_feather', 'a.feather', { compression: 'uncompressed' }],
      ['np.savetxt', 'a.csv', {}],
      ['DataFrame.to_csv', 'b.csv', {}],
    ];
    for (const [op, name, fields] of writes) {
      assert.ok(await peers.time(op, file(name), fields) >= 0, op);
      assert.ok(statSync(file(name)).size > 0, `${op} wrote ${name}`);
    }
    await peers.call('tables.write_default', { path: file('default.parquet'), random: true });
    const reads: [string, string][] = [['pq.read_table', 'default.parquet'], ['pq.read_table+column_stack', 'a.parquet'], ['feather.read_table', 'a.feather'], ['pandas.read_csv', 'a.csv'], ['pandas.read_csv round_trip', 'b.csv'], ['np.loadtxt', 'a.csv']];
    for (const [op, name] of reads) assert.ok(await peers.time(op, file(name)) >= 0, op);
    await peers.call('tables.drop');
    await assert.rejects(peers.time('np.savetxt', file('c.csv')), /np.savetxt: KeyError/, 'the source is gone after tables.drop');
  } finally {
    await peers.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
