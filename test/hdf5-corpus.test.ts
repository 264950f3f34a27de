/**
 * The HDF5 corpus (../shared/corpora/hdf5: files written by libhdf5 through h5py,
 * jhdf's and pyfive's generators and h5wasm's tests) against EXPECTED.h5py.json: every
 * dataset h5py reads with a numeric dtype tensio supports reads to the same bytes
 * (sha256 of the little-endian C-order data); every other one is listed as unsupported
 * with its code and type; no file makes the reader fail with anything but a TensioError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTensioError } from '../src/core/errors.js';
import { hdf5Open } from '../src/formats/hdf5/index.js';
import { hdf5PluginFolder } from '../src/formats/hdf5/plugins.js';
import { unsupportedTensorsOf } from '../src/model/select.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';

interface ExpectedDataset { shape: number[] | null; dtype: string; sha256_le?: string; filters?: string[] }
interface ExpectedFile { datasets: Record<string, ExpectedDataset>; error: string | null }

const CORPUS = 'corpora/hdf5/EXPECTED.h5py.json';

/** Whether h5wasm-plugins (LZF, LZ4, bitshuffle for libhdf5) is installed; without it those datasets must be refused. */
const PLUGINS = hdf5PluginFolder() !== undefined;
const pluginSkip = PLUGINS ? false : 'skipped: the h5wasm-plugins package is not installed (LZF, LZ4 and bitshuffle datasets are refused instead; see the next tests)';

/** Filter names in EXPECTED.h5py.json that tensio's libhdf5 decodes (h5py names LZF, its built-in plugin, 'lzf'). */
const TENSIO_FILTERS = new Set(['gzip', 'shuffle', 'fletcher32', 'szip', 'scaleoffset', 'nbit', ...(PLUGINS ? ['lzf'] : [])]);

/** numpy dtype strings of numeric data (h5py's `object` for vlen sequences is not). */
const NUMERIC = /^(\('?)?[<>|=]?(bool|u?int\d+|float\d+|[iuf]\d|b1)/;

function expectedFiles(): Record<string, ExpectedFile> {
  // Python's json writes NaN and Infinity for sums; they are not used here.
  return JSON.parse(readFileSync(sharedFile(CORPUS)!, 'utf8').replace(/: (-?Infinity|NaN)/g, ': null')) as Record<string, ExpectedFile>;
}

test('every numeric dataset of the HDF5 corpus reads to the bytes h5py reads; the rest are listed with a reason', { skip: sharedSkip(CORPUS) }, async () => {
  const root = join(sharedFile(CORPUS)!, '..');
  let equal = 0;
  let refused = 0;
  const refusedCodes = new Map<string, number>();
  for (const [file, expected] of Object.entries(expectedFiles())) {
    let reader;
    try {
      reader = await hdf5Open(join(root, file));
    } catch (error) {
      assert.ok(isTensioError(error), `${file}: ${String(error)}`);
      // Only files h5py cannot open either may fail to open.
      assert.ok(expected.error, `${file} fails to open (${(error as Error).message}) although h5py opens it`);
      continue;
    }
    try {
      const unsupported = new Map(unsupportedTensorsOf(reader.metadata).map((entry) => [entry.name, entry]));
      for (const [name, dataset] of Object.entries(expected.datasets)) {
        const lacking = (dataset.filters ?? []).filter((filter) => !TENSIO_FILTERS.has(filter));
        if (dataset.sha256_le && NUMERIC.test(dataset.dtype) && lacking.length > 0) {
          // h5py has LZF built in; without the plugins tensio's libhdf5 does not: refused, never garbage.
          const entry = unsupported.get(name);
          assert.equal(entry?.code, 'UNSUPPORTED_FILTER', `${file}: ${name} uses ${lacking.join(', ')}`);
          refusedCodes.set(`UNSUPPORTED_FILTER (${lacking.join(', ')}, h5py reads it)`, (refusedCodes.get(`UNSUPPORTED_FILTER (${lacking.join(', ')}, h5py reads it)`) ?? 0) + 1);
          refused++;
        } else if (dataset.sha256_le && NUMERIC.test(dataset.dtype)) {
          assert.ok(reader.has(name), `${file}: ${name} (${dataset.dtype}) is not a tensor: ${unsupported.get(name)?.reason ?? 'not listed'}`);
          const tensor = await reader.read(name);
          assert.deepEqual(tensor.shape.slice(0, dataset.shape?.length ?? 0), dataset.shape ?? [], `${file}: ${name} shape`);
          const digest = createHash('sha256').update(tensor.data).digest('hex');
          assert.equal(digest, dataset.sha256_le, `${file}: ${name} (${dataset.dtype}) bytes differ from h5py's`);
          equal++;
        } else if (!reader.has(name)) {
          const entry = unsupported.get(name);
          assert.ok(entry, `${file}: ${name} (${dataset.dtype}) is neither a tensor nor listed as unsupported`);
          assert.ok(entry.reason.includes(name), `${file}: the reason names the dataset: ${entry.reason}`);
          assert.ok(entry.formatDtype, `${file}: ${name} names its HDF5 type`);
          refusedCodes.set(entry.code, (refusedCodes.get(entry.code) ?? 0) + 1);
          refused++;
        }
      }
    } finally {
      await reader.close();
    }
  }
  assert.ok(equal >= 2300, `${equal} datasets equal to h5py's`);
  assert.ok(refused > 0);
  console.log(`hdf5 corpus: ${equal} datasets equal to h5py's, ${refused} refused (${[...refusedCodes].map(([code, n]) => `${code} ${n}`).join(', ')})`);
});

/**
 * jhdf's lz4_datasets.hdf5 and bitshuffle_datasets.hdf5 hold `numpy.arange(20)` as int8,
 * int16, float32 and float64 under every block size (their generator scripts,
 * jhdf/src/test/resources/scripts/{lz4,bitshuffle}_datasets.py); h5py without
 * hdf5plugin cannot read them, so EXPECTED.h5py.json has no sha256 for them.
 */
const ARANGE_20: Record<string, (values: number[]) => Uint8Array> = {
  int8: (v) => new Uint8Array(new Int8Array(v).buffer),
  int16: (v) => new Uint8Array(new Int16Array(v).buffer),
  float32: (v) => new Uint8Array(new Float32Array(v).buffer),
  float64: (v) => new Uint8Array(new Float64Array(v).buffer),
};

test('every LZ4 and bitshuffle dataset of the corpus (jhdf) reads to numpy.arange(20) in its dtype', { skip: pluginSkip || sharedSkip('corpora/hdf5/jhdf/lz4_datasets.hdf5') }, async () => {
  const expected = expectedFiles();
  let checked = 0;
  for (const file of ['jhdf/lz4_datasets.hdf5', 'jhdf/bitshuffle_datasets.hdf5']) {
    await using reader = await hdf5Open(sharedFile(`corpora/hdf5/${file}`)!);
    assert.deepEqual(unsupportedTensorsOf(reader.metadata), [], `${file}: nothing refused`);
    for (const [name, dataset] of Object.entries(expected[file]!.datasets)) {
      const tensor = await reader.read(name);
      assert.equal(tensor.dtype, dataset.dtype, `${file}: ${name} dtype`);
      assert.deepEqual(tensor.shape, [20], `${file}: ${name} shape`);
      const want = ARANGE_20[dataset.dtype]!(Array.from({ length: 20 }, (_, i) => i));
      assert.deepEqual(new Uint8Array(tensor.data), want, `${file}: ${name} (${dataset.filters?.join(', ')})`);
      const info = reader.tensors.find((entry) => entry.name === name)!;
      assert.ok((info.extras?.filters as string[]).some((filter) => filter === 'lz4' || filter === 'bitshuffle'), `${file}: ${name} lists its filter`);
      checked++;
    }
  }
  assert.equal(checked, 60);
});

test('without h5wasm-plugins, LZ4 datasets are refused with UNSUPPORTED_FILTER naming the filter, never read', { skip: PLUGINS ? 'skipped: h5wasm-plugins is installed (the refusal of a filter tensio lacks is tested with a zfp dataset in hdf5-hostile)' : sharedSkip('corpora/hdf5/jhdf/lz4_datasets.hdf5') }, async () => {
  await using reader = await hdf5Open(sharedFile('corpora/hdf5/jhdf/lz4_datasets.hdf5')!);
  const entries = unsupportedTensorsOf(reader.metadata);
  assert.ok(entries.length > 0);
  for (const entry of entries) {
    assert.equal(entry.code, 'UNSUPPORTED_FILTER', entry.reason);
    assert.match(entry.reason, /lz4 \(filter 32004\)/);
    await assert.rejects(reader.read(entry.name), (error) => isTensioError(error, 'UNSUPPORTED_FILTER') && /lz4 \(filter 32004\)/.test((error as Error).message));
  }
});
