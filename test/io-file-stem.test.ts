/**
 * fileStemOf: the array name NumPack gives a single-file import (its file stem), with the
 * format's own compound extensions removed whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileStemOf } from '../src/io/file-stem.js';

test('fileStemOf: known extensions whole, any other as Path.stem, URLs by their path, bytes have none', () => {
  const csv = /\.(csv|tsv|txt)(\.gz)?$|\.gz$/i;
  const cases: [string, string][] = [
    ['/d/a.csv', 'a'], ['/d/a.CSV.gz', 'a'], ['/d/a.gz', 'a'], ['/d/x.data', 'x'], ['/d/x.tar.data', 'x.tar'],
    ['/d/plain', 'plain'], ['/d/.hidden', '.hidden'], ['relative/b.tsv', 'b'],
  ];
  for (const [input, stem] of cases) assert.equal(fileStemOf(input, csv), stem, input);
  assert.equal(fileStemOf('https://example.com/data/r%20one.csv?x=1', csv), 'r one');
  assert.equal(fileStemOf(new URL('file:///tmp/q.data'), csv), 'q');
  assert.equal(fileStemOf(new Uint8Array(3) as never, csv), undefined);
});
