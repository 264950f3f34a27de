/**
 * The zTensor v2 conformance corpus (pie-project/ztensor `conformance/corpus`, 19 valid +
 * 57 reject files in ../shared/conformance/ztensor) run with the operation each case in
 * `expectations.json` names: open, view (zero-copy), verify (digest and content rules)
 * or read_csr (CSR assembly), asserting the exact rule of every rejection.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TensioError } from '../src/core/errors.js';
import { ZtRejectError, ztOpen, type ZtReader } from '../src/formats/zt/index.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';

interface Case { file: string; operation: 'open' | 'view' | 'verify' | 'read_csr'; object?: string; part?: string; expect: 'valid' | 'data-shard' | 'reject' | 'unsupported'; rule?: string }

const skip = sharedSkip('conformance/ztensor/expectations.json');
const root = sharedFile('conformance/ztensor');
const cases: Case[] = root ? (JSON.parse(readFileSync(join(root, 'expectations.json'), 'utf8')) as { cases: Case[] }).cases : [];

async function run(reader: ZtReader, c: Case): Promise<void> {
  if (c.operation === 'view') await reader.view(c.object!, c.part!);
  else if (c.operation === 'verify') await reader.verifyPart(c.object!, c.part!);
  else if (c.operation === 'read_csr') await reader.readCsr(c.object!);
}

test('the corpus has 76 cases: 19 valid, 57 reject', { skip }, () => {
  assert.equal(cases.length, 76);
  assert.equal(cases.filter((c) => c.file.startsWith('valid/')).length, 19);
  assert.equal(cases.filter((c) => c.expect === 'reject').length, 57);
});

for (const c of cases) {
  test(`${c.file}: ${c.operation}${c.object ? ` ${c.object}${c.part ? `/${c.part}` : ''}` : ''} → ${c.expect}${c.rule ? ` ${c.rule}` : ''}`, { skip }, async () => {
    const bytes = new Uint8Array(readFileSync(join(root!, c.file)));
    let outcome: unknown;
    try {
      const reader = await ztOpen(bytes);
      try {
        if (c.expect === 'data-shard') {
          assert.equal(reader.dataShard, true);
          assert.equal(reader.tensors.length, 0);
        } else if (c.operation === 'open') {
          assert.equal(reader.dataShard, false);
        }
        await run(reader, c);
      } finally {
        await reader.close();
      }
    } catch (error) {
      outcome = error;
    }
    if (c.expect === 'valid' || c.expect === 'data-shard') {
      assert.equal(outcome, undefined, `expected success, got ${String(outcome)}`);
    } else if (c.expect === 'unsupported') {
      assert.ok(outcome instanceof TensioError && !(outcome instanceof ZtRejectError), `expected Unsupported, got ${String(outcome)}`);
      assert.equal((outcome as TensioError).code, 'UNSUPPORTED_FEATURE');
    } else {
      assert.ok(outcome instanceof ZtRejectError, `expected a rejection under ${c.rule}, got ${String(outcome)}`);
      assert.equal(outcome.rule, c.rule, outcome.message);
    }
  });
}

test('valid files read as the corpus README describes them', { skip }, async () => {
  const open = async (name: string) => ztOpen(new Uint8Array(readFileSync(join(root!, 'valid', name))));
  {
    const reader = await open('canonical-basic.zt');
    assert.deepEqual(reader.tensors.map((t) => [t.name, t.dtype, t.shape]), [['a.bias', 'float32', [4]], ['a.weight', 'bfloat16', [2, 4]], ['tied', 'bfloat16', [2, 4]]]);
    assert.deepEqual([...(await reader.read('a.bias')).data], new Array(16).fill(1));
    assert.deepEqual((await reader.read('tied')).data, (await reader.read('a.weight')).data);
    for (const t of reader.tensors) assert.equal(await reader.verifyPart(t.name, 'data'), true);
  }
  {
    const reader = await open('attributes-kitchen-sink.zt');
    assert.equal(reader.metadata.float, 1.25);
    assert.equal(reader.metadata.neg, -42);
    assert.deepEqual(reader.metadata.nested, [null, true]);
    assert.deepEqual([...(reader.metadata.raw as Uint8Array)], [0, 1, 2]);
  }
  {
    const reader = await open('csr-data-valid.zt');
    const info = reader.info('m');
    assert.equal(info.layout?.kind, 'sparse_csr');
    assert.deepEqual(info.parts?.map((p) => [p.name, p.dtype, p.shape]), [['indices', 'uint64', [3]], ['indptr', 'uint64', [3]], ['values', 'float32', [3]]]);
    const csr = await reader.readCsr('m');
    assert.deepEqual(csr.indptr, [0, 2, 3]);
    assert.deepEqual(csr.indices, [0, 2, 1]);
    assert.deepEqual([...(await reader.readPart('m', 'indices')).data.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  }
  {
    const bytes = new Uint8Array(readFileSync(join(root!, 'valid', 'minimal.zt')));
    const reader = await ztOpen(bytes);
    const view = await reader.view('t', 'data');
    assert.equal(view.buffer, bytes.buffer, 'a raw part of bytes in memory is a view, not a copy');
    assert.deepEqual([...view], new Array(8).fill(0xab));
  }
  {
    const reader = await open('unknown-layout-structural.zt');
    const info = reader.info(reader.tensors[0]!.name);
    assert.equal(info.layout?.kind, 'other');
    assert.equal((await reader.readPart(info.name, 'scales')).data.byteLength, 104);
  }
  {
    const reader = await open('unknown-ltype-structural.zt');
    assert.equal(reader.tensors[0]!.dtype, 'opaque');
    assert.equal(reader.tensors[0]!.formatDtype, 'x.future/1');
  }
  {
    const reader = await open('view-unknown-encoding-refused.zt');
    await assert.rejects(reader.read('t'), (error: TensioError) => error.code === 'UNSUPPORTED_FEATURE' && /x\.z\/1/.test(error.message));
  }
  {
    const reader = await open('local-and-foreign-parts-together.zt');
    assert.deepEqual([...(await reader.read('here')).data], new Array(8).fill(0xab));
    await assert.rejects(reader.read('there'), (error: TensioError) => error.code === 'NOT_FOUND' && /shard "base"/.test(error.message));
  }
});
