/**
 * The NumPack store's journal (`.tensio-journal`, src/npk/journal.ts): appends and
 * replaces commit as one record each and are folded into `metadata.npkm` at close. What
 * is proven here: readers see every committed change while the writer works (without
 * writing anything), a writer's open replays a dead writer's journal (including rows
 * not yet written in place), a long session folds its journal before it grows large,
 * and damaged or hostile journals give the last whole record, the catalogue as it was,
 * or an error with a code — never a write outside the store. The kill-at-every-step
 * matrix of append and replace is in test/npk-crash.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NumPack, npkDecodeMetadata } from '../src/npk/index.js';
import { npkEncodeJournalHeader, npkEncodeJournalRecord, NPK_JOURNAL_FILE, type NpkJournalRecord } from '../src/npk/journal.js';
import { npkEncodeMetadata, type NpkArrayEntry } from '../src/npk/metadata.js';
import { verifyTensorFile } from '../src/operations/index.js';
import { isTensioError } from '../src/core/errors.js';
import { tempDir } from './helpers/temp.js';
import { concatRows, patternTensor, values } from './helpers/npk-fixtures.js';
import { CRASH_SCENARIOS, storeOf } from './helpers/npk-crash-scenarios.js';

const CHILD = fileURLToPath(new URL('./helpers/npk-crash-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function loadAll(path: string): Promise<Record<string, string>> {
  await using npk = await NumPack.open(path, { readOnly: true });
  const out: Record<string, string> = {};
  for (const name of npk.getMemberList().sort()) {
    const tensor = await npk.load(name);
    out[name] = `${tensor.shape.join(',')}:${Buffer.from(tensor.data).toString('hex')}`;
  }
  return out;
}

test('a reader sees each committed append and replace while the writer works, and writes nothing', async (t) => {
  const path = join(await tempDir(t), 's.npk');
  const base = patternTensor('int32', [4, 3], 1);
  const more = patternTensor('int32', [2, 3], 2);
  const row = patternTensor('int32', [1, 3], 3);
  const writer = await NumPack.open(path, { dropIfExists: true });
  try {
    await writer.save({ a: base });
    const catalogue = readFileSync(join(path, 'metadata.npkm'));
    await writer.append({ a: more });
    await writer.replace({ a: row }, [1]);
    assert.ok(existsSync(join(path, NPK_JOURNAL_FILE)), 'the changes are in the journal');
    assert.deepEqual(readFileSync(join(path, 'metadata.npkm')), catalogue, 'the catalogue is not rewritten per call');
    await using reader = await NumPack.open(path, { readOnly: true });
    const seen = await reader.load('a');
    const expected = concatRows(base, more);
    expected.data.set(row.data, 1 * 12);
    assert.deepEqual(seen.shape, [6, 3]);
    assert.deepEqual(values(seen), values(expected));
    assert.deepEqual(readFileSync(join(path, 'metadata.npkm')), catalogue, 'the reader wrote nothing');
    const report = await verifyTensorFile(path);
    assert.equal(report.ok, false);
    assert.match(JSON.stringify(report.problems), /2 committed append\/replace change\(s\) not yet folded/);
  } finally {
    await writer.close();
  }
  assert.ok(!existsSync(join(path, NPK_JOURNAL_FILE)), 'close folds the journal into the catalogue');
  assert.deepEqual(npkDecodeMetadata(readFileSync(join(path, 'metadata.npkm'))).arrays[0]!.shape, [6, 3]);
  assert.ok((await verifyTensorFile(path)).ok);
});

test('a writer reopening after a kill between the commit record and the in-place rows replays them', async (t) => {
  const dir = await tempDir(t);
  const reference = join(dir, 'reference');
  const killed = join(dir, 'killed');
  for (const target of [reference, killed]) {
    await mkdir(target);
    await CRASH_SCENARIOS['replace rows']!.setup(target);
  }
  const run = (target: string, crashAt: string) => spawnSync(process.execPath, ['--import', 'tsx', CHILD, 'replace rows', target], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, TENSIO_TEST_CRASH_AFTER: `npk-publish:${crashAt}` }, timeout: 120_000,
  });
  const listing = run(reference, 'list');
  assert.equal(listing.status, 0, listing.stderr);
  const steps = [...listing.stderr.matchAll(/^crash-point (\d+) (.*)$/gm)].map((match) => match[2]!);
  const commit = steps.indexOf('journal record written (commit)') + 1;
  assert.ok(commit > 0, `no journal commit among ${JSON.stringify(steps)}`);
  const before = await loadAll(storeOf(killed));
  const crash = run(killed, String(commit));
  assert.equal(crash.signal, 'SIGKILL', crash.stderr);
  assert.ok(existsSync(join(storeOf(killed), NPK_JOURNAL_FILE)));
  // The writer opens first this time (the crash test's reader replays on its own).
  const writer = await NumPack.open(storeOf(killed));
  await writer.close();
  const after = await loadAll(storeOf(killed));
  assert.notDeepEqual(after, before);
  assert.deepEqual(after, await loadAll(storeOf(reference)));
  assert.deepEqual((await readdir(storeOf(killed))).filter((name) => name.startsWith('.')), []);
  assert.ok((await verifyTensorFile(storeOf(killed))).ok);
});

test('a long session folds its journal into the catalogue once it passes 8 MiB', async (t) => {
  const path = join(await tempDir(t), 's.npk');
  await using npk = await NumPack.open(path, { dropIfExists: true, durable: false });
  await npk.save({ a: patternTensor('uint8', [1, 2 ** 20], 1) });
  const chunk = patternTensor('uint8', [1, 2 ** 20], 2); // 1 MiB: inline in its record
  let folded = false;
  for (let i = 0; i < 10 && !folded; i++) {
    await npk.append({ a: chunk });
    const shape = npkDecodeMetadata(readFileSync(join(path, 'metadata.npkm'))).arrays[0]!.shape;
    folded = shape[0] === i + 2;
    if (!folded) assert.ok(statSync(join(path, NPK_JOURNAL_FILE)).size <= 9 * 2 ** 20 + 4096);
  }
  assert.ok(folded, 'the catalogue on disk caught up within 10 appends of 1 MiB');
  assert.equal(npk.getShape('a')[0] >= 9, true);
});

/** A store with `a` (int32 [4, 2]) and the bytes of its catalogue, for hand-made journals. */
async function storeWithCatalogue(t: Parameters<typeof tempDir>[0]) {
  const path = join(await tempDir(t), 's.npk');
  const a = patternTensor('int32', [4, 2], 5);
  {
    await using npk = await NumPack.open(path, { dropIfExists: true });
    await npk.save({ a });
  }
  const catalogue = readFileSync(join(path, 'metadata.npkm'));
  const entry = npkDecodeMetadata(catalogue).arrays[0]!;
  return { path, a, catalogue: new Uint8Array(catalogue), entry };
}

/** A record that appends `rows` (int32, 2 per row) to `a` and sets the catalogue accordingly. */
function appendRecord(entry: NpkArrayEntry, physicalRows: number, rows: Int32Array): NpkJournalRecord {
  const added = rows.length / 2;
  const catalogue = npkEncodeMetadata([{ ...entry, shape: [physicalRows + added, 2], sizeBytes: (physicalRows + added) * 8 }]);
  return { catalogue, writes: [{ file: entry.dataFile, position: physicalRows * 8, bytes: new Uint8Array(rows.buffer) }] };
}

const concatBytes = (...parts: Uint8Array[]) => Buffer.concat(parts.map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength)));

test('damaged and hostile journals: the last whole record, the old catalogue, or an error with a code', async (t) => {
  const cases: { name: string; journal: (c: { catalogue: Uint8Array; entry: NpkArrayEntry }) => Uint8Array; rows?: number; code?: string; options?: { maxJournalBytes?: number } }[] = [
    {
      name: 'two whole records: both replayed (rows redone even though never written in place)',
      journal: ({ catalogue, entry }) => concatBytes(npkEncodeJournalHeader(catalogue), npkEncodeJournalRecord(appendRecord(entry, 4, Int32Array.of(1, 2))), npkEncodeJournalRecord(appendRecord(entry, 5, Int32Array.of(3, 4, 5, 6)))),
      rows: 7,
    },
    {
      name: 'second record torn (3 bytes short): only the first',
      journal: ({ catalogue, entry }) => {
        const whole = concatBytes(npkEncodeJournalHeader(catalogue), npkEncodeJournalRecord(appendRecord(entry, 4, Int32Array.of(1, 2))), npkEncodeJournalRecord(appendRecord(entry, 5, Int32Array.of(3, 4))));
        return whole.subarray(0, whole.byteLength - 3);
      },
      rows: 5,
    },
    {
      name: 'a flipped byte in the first record: nothing',
      journal: ({ catalogue, entry }) => {
        const bytes = concatBytes(npkEncodeJournalHeader(catalogue), npkEncodeJournalRecord(appendRecord(entry, 4, Int32Array.of(1, 2))));
        bytes[40]! ^= 0x10;
        return bytes;
      },
      rows: 4,
    },
    {
      name: 'stale: its base is another catalogue (already folded)',
      journal: ({ entry }) => concatBytes(npkEncodeJournalHeader(npkEncodeMetadata([{ ...entry, shape: [3, 2] }])), npkEncodeJournalRecord(appendRecord(entry, 4, Int32Array.of(1, 2)))),
      rows: 4,
    },
    { name: 'garbage header', journal: () => new Uint8Array(64).fill(7), rows: 4 },
    {
      name: 'a CRC-valid record writing outside the store',
      journal: ({ catalogue }) => concatBytes(npkEncodeJournalHeader(catalogue), npkEncodeJournalRecord({ catalogue, writes: [{ file: '../outside.bin', position: 0, bytes: Uint8Array.of(1) }] })),
      code: 'INVALID_METADATA',
    },
    {
      name: 'a CRC-valid record writing a file that is not there',
      journal: ({ catalogue }) => concatBytes(npkEncodeJournalHeader(catalogue), npkEncodeJournalRecord({ catalogue, writes: [{ file: 'data_nothing.npkd', position: 0, bytes: Uint8Array.of(1) }] })),
      code: 'INVALID_METADATA',
    },
    {
      name: 'a CRC-valid record overwriting the catalogue',
      journal: ({ catalogue }) => concatBytes(npkEncodeJournalHeader(catalogue), npkEncodeJournalRecord({ catalogue, writes: [{ file: 'metadata.npkm', position: 0, bytes: Uint8Array.of(0) }] })),
      code: 'INVALID_METADATA',
    },
    {
      name: 'a CRC-valid record whose catalogue is not one',
      journal: ({ catalogue }) => concatBytes(npkEncodeJournalHeader(catalogue), npkEncodeJournalRecord({ catalogue: Uint8Array.of(1, 2, 3), writes: [] })),
      code: 'INVALID_METADATA',
    },
    {
      name: 'bigger than maxJournalBytes',
      journal: ({ catalogue, entry }) => concatBytes(npkEncodeJournalHeader(catalogue), npkEncodeJournalRecord(appendRecord(entry, 4, new Int32Array(2000)))),
      code: 'LIMIT_EXCEEDED',
      options: { maxJournalBytes: 4096 },
    },
  ];
  for (const item of cases) {
    const { path, a, catalogue, entry } = await storeWithCatalogue(t);
    writeFileSync(join(path, NPK_JOURNAL_FILE), item.journal({ catalogue, entry }));
    const report = await verifyTensorFile(path);
    assert.equal(report.ok, false, `${item.name}: verify reports the journal`);
    if (item.code) {
      for (const readOnly of [true, false]) {
        await assert.rejects(NumPack.open(path, { readOnly, ...item.options }), (error: unknown) => isTensioError(error) && error.code === item.code, `${item.name} (readOnly ${readOnly})`);
      }
      assert.ok(!existsSync(join(path, '..', 'outside.bin')), `${item.name}: nothing written outside`);
      assert.ok(!existsSync(join(path, 'data_nothing.npkd')), `${item.name}: no file created`);
      continue;
    }
    const writer = await NumPack.open(path);
    const loaded = await writer.load('a');
    await writer.close();
    assert.equal(loaded.shape[0], item.rows, item.name);
    assert.deepEqual(Buffer.from(loaded.data.subarray(0, 32)), Buffer.from(a.data), `${item.name}: the old rows are intact`);
    if (item.rows === 7) assert.deepEqual(values(loaded).slice(8), [1, 2, 3, 4, 5, 6]);
    assert.ok(!existsSync(join(path, NPK_JOURNAL_FILE)), `${item.name}: the writer's open removes the journal`);
    assert.ok((await verifyTensorFile(path)).ok, `${item.name}: verifies clean after the writer's open`);
  }
});

test('mutated journals (300, seeded): every open ends in the store or a TensioError, and only array data is ever written', async (t) => {
  const { mutantRandom, mutate } = await import('./fuzz/mutate.js');
  const { path, catalogue, entry } = await storeWithCatalogue(t);
  const valid = concatBytes(
    npkEncodeJournalHeader(catalogue),
    npkEncodeJournalRecord(appendRecord(entry, 4, Int32Array.of(1, 2))),
    npkEncodeJournalRecord({ catalogue: npkEncodeMetadata([{ ...entry, shape: [5, 2], sizeBytes: 40 }]), writes: [{ file: entry.dataFile, position: 8, bytes: new Uint8Array(8).fill(9) }] }),
  );
  const pristine = new Map((await readdir(path)).filter((name) => name !== entry.dataFile).map((name) => [name, readFileSync(join(path, name))]));
  const dataBefore = readFileSync(join(path, entry.dataFile));
  const outcomes = new Map<string, number>();
  for (let i = 0; i < 300; i++) {
    writeFileSync(join(path, entry.dataFile), dataBefore);
    writeFileSync(join(path, 'metadata.npkm'), pristine.get('metadata.npkm')!);
    writeFileSync(join(path, NPK_JOURNAL_FILE), mutate(valid, mutantRandom(7, i), true));
    let outcome = 'opened';
    try {
      const npk = await NumPack.open(path, { readOnly: i % 2 === 0 });
      const loaded = await npk.load('a');
      assert.ok(loaded.shape[0] === 4 || loaded.shape[0] === 5, `mutant ${i}: ${loaded.shape}`);
      await npk.close();
    } catch (error) {
      assert.ok(isTensioError(error), `mutant ${i}: ${(error as Error).stack}`);
      outcome = error.code;
    }
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    const names = (await readdir(path)).filter((name) => name !== NPK_JOURNAL_FILE && name !== entry.dataFile && name !== 'metadata.npkm');
    assert.deepEqual(names.sort(), [...pristine.keys()].filter((name) => name !== 'metadata.npkm').sort(), `mutant ${i}: no other file appears or goes`);
  }
  assert.ok((outcomes.get('opened') ?? 0) > 0, `some mutants still open: ${JSON.stringify([...outcomes])}`);
  t.diagnostic(JSON.stringify(Object.fromEntries(outcomes)));
});
