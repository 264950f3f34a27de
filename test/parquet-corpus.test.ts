/**
 * The Parquet corpora (../shared/corpora/parquet): every numeric column of every file
 * pyarrow reads is read by tensio with the same values (compared as float64 digests,
 * nulls as NaN, computed with pyarrow at test time); every `bad_data` file is refused
 * with a TensioError; the corrupt-checksum file fails `verify`, the good ones pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TensioError } from '../src/core/errors.js';
import { toFloat32Array } from '../src/core/float-convert.js';
import { typedView, type Tensor } from '../src/core/tensor.js';
import { parquetOpen } from '../src/formats/parquet/reader.js';
import { parquetVerify } from '../src/formats/parquet/verify.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';

const APACHE = 'corpora/parquet/apache-parquet-testing';
const HYPARQUET = 'corpora/parquet/hyparquet/test/files';

function parquetFiles(folder: string): string[] {
  const root = sharedFile(folder);
  if (!root) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.parquet')) out.push(path);
    }
  };
  walk(root);
  return out.sort();
}

/** float64 little-endian digest of values, NaN canonical. */
function digest(values: Float64Array): string {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const canonical = bytes.slice();
  const view = new DataView(canonical.buffer);
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) view.setFloat64(i * 8, Number.NaN, true);
  return createHash('sha256').update(canonical).digest('hex');
}

function asFloat64(tensor: Tensor): Float64Array {
  if (tensor.dtype === 'float16') return Float64Array.from(toFloat32Array(tensor));
  const view = typedView(tensor) as ArrayLike<number | bigint>;
  return Float64Array.from({ length: view.length }, (_, i) => Number(view[i]!));
}

const PYARROW_DIGESTS = String.raw`
import sys, json, hashlib, numpy as np, pyarrow as pa, pyarrow.parquet as pq
out = {}
for path in sys.argv[1:]:
    try:
        table = pq.read_table(path)
    except Exception as e:
        out[path] = {'error': str(e)[:200]}
        continue
    cols = {}
    for name, col in zip(table.column_names, table.columns):
        t = col.type
        if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)):
            continue
        arr = col.to_numpy(zero_copy_only=False)
        if arr.dtype == object:
            arr = np.array([np.nan if v is None else float(v) for v in arr], dtype='float64')
        values = arr.astype('float64')
        values[np.isnan(values)] = np.nan
        cols[name] = {'rows': len(values), 'sha': hashlib.sha256(np.ascontiguousarray(values).astype('<f8').tobytes()).hexdigest(), 'type': str(t)}
    out[path] = {'rows': table.num_rows, 'columns': cols}
print(json.dumps(out))
`;

test('every numeric column of the corpus files pyarrow reads equals pyarrow (float64 digests, nulls as NaN)', { skip: sharedSkip(APACHE) || oracleSkip('pyarrow', 'numpy') }, async () => {
  const files = [...parquetFiles(`${APACHE}/data`), ...parquetFiles(HYPARQUET)];
  const expected = JSON.parse(runPython(PYARROW_DIGESTS, files, { timeoutMs: 600_000 }).stdout) as Record<string, { error?: string; rows?: number; columns?: Record<string, { rows: number; sha: string; type: string }> }>;
  let filesRead = 0;
  let columns = 0;
  let pyarrowFailed = 0;
  const failures: string[] = [];
  for (const path of files) {
    const want = expected[path]!;
    if (want.error) { pyarrowFailed++; continue; }
    // try/finally rather than `await using`: esbuild's lowering of `using` in a loop rethrows an earlier iteration's error.
    try {
      const reader = await parquetOpen(path, { formatOptions: { columns: 'separate', skipNonNumeric: true } });
      try {
        filesRead++;
        for (const [name, column] of Object.entries(want.columns!)) {
          if (!reader.has(name)) { failures.push(`${path}: column ${name} (${column.type}) is not read as a tensor`); continue; }
          const values = asFloat64(await reader.read(name));
          if (values.length !== column.rows || digest(values) !== column.sha) failures.push(`${path}: column ${name} (${column.type}) differs from pyarrow`);
          else columns++;
        }
      } finally {
        await reader.close();
      }
    } catch (error) {
      failures.push(`${path}: ${(error as Error).message}`);
    }
  }
  console.log(`parquet corpus: ${files.length} files, ${filesRead} read, ${columns} numeric columns equal to pyarrow, ${pyarrowFailed} files pyarrow itself refuses; ${failures.length} failures`);
  for (const failure of failures) console.log(`  ${failure}`);
  assert.ok(columns >= 100, `numeric columns compared: ${columns}`);
  // Failures are reported above; the test allows none.
  assert.deepEqual(failures, []);
});

/**
 * bad_data files pyarrow 21 reads without complaint (a dictionary page with RLE bit width
 * 0, apache/arrow#43605, now decodes to zeros there): tensio must read them as pyarrow
 * does, not refuse them.
 */
const PYARROW_READS = ['ARROW-GH-43605.parquet'];

test('every bad_data file is refused with a TensioError (open, read or verify), except those pyarrow reads, read equal', { skip: sharedSkip(`${APACHE}/bad_data`) || oracleSkip('pyarrow', 'numpy') }, async () => {
  const files = parquetFiles(`${APACHE}/bad_data`);
  assert.ok(files.length > 0);
  const accepted: string[] = [];
  const readable = files.filter((path) => PYARROW_READS.some((name) => path.endsWith(`/${name}`)));
  const expected = JSON.parse(runPython(PYARROW_DIGESTS, readable).stdout) as Record<string, { columns: Record<string, { sha: string }> }>;
  for (const path of readable) {
    const reader = await parquetOpen(path, { formatOptions: { columns: 'separate', skipNonNumeric: true } });
    try {
      for (const [name, column] of Object.entries(expected[path]!.columns)) assert.equal(digest(asFloat64(await reader.read(name))), column.sha, `${path}: ${name} as pyarrow reads it`);
    } finally {
      await reader.close();
    }
  }
  for (const path of files.filter((file) => !readable.includes(file))) {
    let refused = false;
    try {
      const reader = await parquetOpen(path, { formatOptions: { columns: 'separate', skipNonNumeric: true } });
      try {
        for (const info of reader.tensors) await reader.read(info.name);
      } finally {
        await reader.close();
      }
      const report = await parquetVerify(path);
      refused = !report.ok;
    } catch (error) {
      if (!(error instanceof TensioError)) assert.fail(`${path}: not a TensioError: ${(error as Error).stack}`);
      refused = true;
    }
    if (!refused) accepted.push(path);
  }
  assert.deepEqual(accepted, []);
});

test('verify: page CRCs checked; the corrupt-checksum file fails, the good ones pass', { skip: sharedSkip(`${APACHE}/data/datapage_v1-corrupt-checksum.parquet`) }, async () => {
  const data = sharedFile(`${APACHE}/data`)!;
  const bad = await parquetVerify(join(data, 'datapage_v1-corrupt-checksum.parquet'));
  assert.equal(bad.ok, false);
  assert.ok(bad.problems.some((problem) => problem.code === 'CHECKSUM_MISMATCH'), JSON.stringify(bad.problems));
  for (const name of ['datapage_v1-snappy-compressed-checksum.parquet', 'datapage_v1-uncompressed-checksum.parquet']) {
    const good = await parquetVerify(join(data, name));
    assert.equal(good.ok, true, JSON.stringify(good.problems));
    assert.ok(good.checksumsVerified > 0, `${name}: pages with CRCs checked`);
  }
});
