import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliFormatBytes, cliFormatCount, cliFormatTable, cliFormatThroughput, cliJson } from '../src/cli/output.js';

test('byte sizes: whole bytes below 1 KiB, one decimal above', () => {
  assert.equal(cliFormatBytes(0), '0 B');
  assert.equal(cliFormatBytes(1023), '1023 B');
  assert.equal(cliFormatBytes(321.879), '322 B');
  assert.equal(cliFormatBytes(1536), '1.5 KiB');
  assert.equal(cliFormatBytes(3 * 2 ** 30), '3.0 GiB');
  assert.equal(cliFormatThroughput(100, 0), '-');
  assert.equal(cliFormatThroughput(2 ** 21, 2), '1.0 MiB/s');
});

test('counts and tables', () => {
  assert.equal(cliFormatCount(1234567), '1,234,567');
  assert.equal(cliFormatCount(2n ** 64n), '18,446,744,073,709,551,616');
  assert.equal(cliFormatTable([['A', 'BYTES'], ['long-name', '7']], { align: ['left', 'right'] }), '  A          BYTES\n  long-name      7\n');
});

test('JSON output survives bigint, typed arrays, Maps and cycles', () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const doc = JSON.parse(cliJson({ small: 5n, huge: 2n ** 70n, view: new Int16Array([1, -2]), map: new Map([['k', 1]]), cyclic, nan: Number.NaN }));
  assert.deepEqual(doc, { small: 5, huge: '1180591620717411303424', view: [1, -2], map: { k: 1 }, cyclic: { a: 1, self: '[circular]' }, nan: 'NaN' });
});
