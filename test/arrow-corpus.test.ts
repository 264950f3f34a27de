/**
 * The Apache Arrow integration corpus (../shared/corpora/arrow/apache-arrow-testing):
 * IPC files and streams from 7 producer versions, both endians, lz4/zstd bodies. Every
 * column tensio maps to tensors reads equal to the integration `.json.gz` of the same
 * data (nulls as NaN); every other column is listed with its type; every fuzzer file
 * is refused with a TensioError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isTensioError, TensioError } from '../src/core/errors.js';
import { typedView } from '../src/core/tensor.js';
import { arrowOpen } from '../src/formats/arrow/reader.js';
import { UNSUPPORTED_TENSORS_KEY, type UnsupportedTensor } from '../src/model/types.js';
import { bytesSource } from '../src/storage/byte-source.js';
import { sharedFile as sharedPath, sharedSkip } from './helpers/shared-files.js';

const INTEGRATION = 'corpora/arrow/apache-arrow-testing/data/arrow-ipc-stream/integration';

interface JsonColumn { name: string; count: number; VALIDITY?: number[]; DATA?: unknown[]; children?: JsonColumn[] }
interface JsonField { name: string; type: { name: string }; children: JsonField[] }

/** Expected flat values of a column over all batches: numbers (NaN for nulls) or bigints. */
function expectedValues(batches: { columns: JsonColumn[] }[], index: number, cell: number): unknown[] {
  const out: unknown[] = [];
  for (const batch of batches) {
    const column = batch.columns[index]!;
    let leaf = column;
    while (leaf.children && leaf.children.length === 1 && !leaf.DATA) leaf = leaf.children[0]!;
    for (let row = 0; row < column.count; row++) {
      const valid = column.VALIDITY ? column.VALIDITY[row] === 1 : true;
      for (let k = 0; k < cell; k++) out.push(valid ? leaf.DATA![row * cell + k] : null);
    }
  }
  return out;
}

function same(actual: number | bigint, expected: unknown, dtype: string): boolean {
  if (expected === null) return Number.isNaN(actual as number);
  if (typeof expected === 'boolean') return Number(actual) === (expected ? 1 : 0);
  if (typeof actual === 'bigint') return actual === BigInt(expected as string | number);
  const value = typeof expected === 'string' ? Number(BigInt(expected)) : Number(expected);
  if (dtype === 'float16' || dtype === 'float32') return Math.abs(actual - value) <= Math.abs(value) * 1e-3 || (Number.isNaN(actual) && Number.isNaN(value));
  return actual === value || (Number.isNaN(actual) && Number.isNaN(value));
}

function float16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const corpusSkip = sharedSkip(INTEGRATION);

test('every integration file: numeric columns equal their .json.gz, other columns named with their type', { skip: corpusSkip }, async () => {
  const root = sharedPath(INTEGRATION)!;
  let files = 0;
  let columnsChecked = 0;
  let valuesChecked = 0;
  let unsupportedListed = 0;
  const failures: string[] = [];
  for (const version of readdirSync(root).filter((name) => statSync(join(root, name)).isDirectory())) {
    for (const name of readdirSync(join(root, version)).filter((file) => file.endsWith('.arrow_file') || file.endsWith('.stream'))) {
      const path = join(root, version, name);
      const jsonPath = path.replace(/\.(arrow_file|stream)$/, '.json.gz');
      const json = JSON.parse(gunzipSync(readFileSync(jsonPath)).toString('utf8')) as { schema: { fields: JsonField[] }; batches: { count: number; columns: JsonColumn[] }[] };
      files++;
      const names = json.schema.fields.map((f) => f.name);
      const duplicates = names.length !== new Set(names).size;
      let reader;
      try {
        reader = await arrowOpen(bytesSource(new Uint8Array(readFileSync(path)), path), { formatOptions: { columns: 'separate', skipNonNumeric: true } });
      } catch (error) {
        if (duplicates && isTensioError(error, 'DUPLICATE_NAME')) continue;
        failures.push(`${version}/${name}: ${(error as Error).message}`);
        continue;
      }
      const expectedRows = json.batches.reduce((sum, batch) => sum + batch.count, 0);
      assert.equal(reader.metadata['table.rows'], expectedRows, `${version}/${name} rows`);
      const listed = (reader.metadata[UNSUPPORTED_TENSORS_KEY] as UnsupportedTensor[] | undefined) ?? [];
      unsupportedListed += listed.length;
      for (const entry of listed) assert.ok(entry.formatDtype && entry.formatDtype.length > 0, `${name}: ${entry.name} has a type name`);
      assert.equal(reader.tensors.length + listed.length, json.schema.fields.length, `${version}/${name}: every field is a tensor or listed`);
      for (const info of reader.tensors) {
        const index = names.indexOf(info.name);
        const cell = info.shape.slice(1).reduce((a, b) => a * b, 1);
        const expected = expectedValues(json.batches, index, cell);
        const tensor = await reader.read(info.name);
        const view = typedView(tensor);
        const actual: (number | bigint)[] = info.dtype === 'float16' ? [...(view as Uint16Array)].map(float16ToNumber) : [...(view as ArrayLike<number | bigint> & Iterable<number | bigint>)];
        assert.equal(actual.length, expected.length, `${version}/${name}:${info.name} length`);
        for (let i = 0; i < actual.length; i++) {
          if (!same(actual[i]!, expected[i], info.dtype)) {
            failures.push(`${version}/${name}:${info.name}[${i}] = ${actual[i]}, expected ${String(expected[i])} (${info.dtype})`);
            break;
          }
        }
        valuesChecked += actual.length;
        columnsChecked++;
      }
      await reader.close();
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(files >= 100, `files: ${files}`);
  assert.ok(columnsChecked >= 200, `numeric columns checked: ${columnsChecked}`);
  assert.ok(unsupportedListed > 50, `non-numeric columns listed: ${unsupportedListed}`);
  console.log(`arrow corpus: ${files} files, ${columnsChecked} numeric columns (${valuesChecked} values) equal to the JSON, ${unsupportedListed} other columns listed`);
});

test('a non-numeric column without skipNonNumeric is an error naming the column and its type', { skip: corpusSkip }, async () => {
  const path = join(sharedPath(INTEGRATION)!, '1.0.0-littleendian', 'generated_primitive.arrow_file');
  await assert.rejects(arrowOpen(path), (error: unknown) => isTensioError(error, 'UNSUPPORTED_DTYPE') && /column "\w+" of type (utf8|binary|large_utf8|fixed_size_binary)/.test((error as Error).message));
});

for (const kind of ['arrow-ipc-file', 'arrow-ipc-stream', 'arrow-ipc-tensor-stream']) {
  const folder = `corpora/arrow/apache-arrow-testing/data/${kind}`;
  test(`fuzzer files in ${kind}: each opens and reads, or fails with a TensioError`, { skip: sharedSkip(folder) }, async () => {
    const root = sharedPath(folder)!;
    let refused = 0;
    let opened = 0;
    for (const name of readdirSync(root).filter((file) => !file.endsWith('.md') && statSync(join(root, file)).isFile())) {
      const bytes = new Uint8Array(readFileSync(join(root, name)));
      try {
        const reader = await arrowOpen(bytesSource(bytes), { formatOptions: { columns: 'separate', skipNonNumeric: true } });
        for (const info of reader.tensors) await reader.read(info.name);
        opened++;
      } catch (error) {
        if (!(error instanceof TensioError)) assert.fail(`${kind}/${name}: ${(error as Error).stack}`);
        refused++;
      }
    }
    assert.ok(refused + opened > 0);
    console.log(`${kind}: ${refused} refused with a TensioError, ${opened} read`);
  });
}
