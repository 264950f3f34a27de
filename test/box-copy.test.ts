/**
 * `copyBox` (formats/shared/box-copy.ts), the N-d box copy Zarr and HDF5 share, against
 * an element-by-element copy: boxes of every rank up to 4 that cover trailing axes whole
 * or not (the folded one-`set` runs and the per-row runs), a missing source with a
 * non-zero fill and with none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyBox } from '../src/formats/shared/box-copy.js';

/** A small deterministic generator (no seed left to chance). */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Flat element index of `index` in a C-order `shape`. */
function flat(shape: readonly number[], index: readonly number[]): number {
  return index.reduce((at, i, axis) => at * shape[axis]! + i, 0);
}

/** The reference: every element of the box copied (or filled) on its own. */
function naiveCopy(to: Uint8Array, toShape: number[], toStart: number[], from: Uint8Array | undefined, fromShape: number[], fromStart: number[], extent: number[], size: number, fill: Uint8Array | undefined): void {
  const count = elements(extent);
  for (let n = 0; n < count; n++) {
    const index: number[] = [];
    let rest = n;
    for (let axis = extent.length - 1; axis >= 0; axis--) {
      index[axis] = rest % extent[axis]!;
      rest = Math.floor(rest / extent[axis]!);
    }
    const toAt = flat(toShape, index.map((i, axis) => i + toStart[axis]!)) * size;
    if (from) {
      const fromAt = flat(fromShape, index.map((i, axis) => i + fromStart[axis]!)) * size;
      to.set(from.subarray(fromAt, fromAt + size), toAt);
    } else {
      to.set(fill ?? new Uint8Array(size), toAt);
    }
  }
}

test('copyBox copies the same bytes as an element-by-element copy, whole trailing axes or not, with and without a source', () => {
  const random = lcg(20261204);
  const pick = (n: number) => Math.floor(random() * n);
  let folded = 0;
  for (let round = 0; round < 400; round++) {
    const rank = pick(5);
    const size = [1, 2, 4, 8][pick(4)]!;
    const extent = Array.from({ length: rank }, () => 1 + pick(4));
    // Each side is the box plus a margin on some axes; a margin of 0 leaves the axis whole.
    const margin = () => extent.map(() => (random() < 0.5 ? 0 : pick(3)));
    const toPad = margin();
    const fromPad = margin();
    const toShape = extent.map((e, axis) => e + toPad[axis]!);
    const fromShape = extent.map((e, axis) => e + fromPad[axis]!);
    const toStart = toPad.map((p) => pick(p + 1));
    const fromStart = fromPad.map((p) => pick(p + 1));
    if (rank > 1 && toPad[rank - 1] === 0 && fromPad[rank - 1] === 0) folded++;
    const from = random() < 0.8 ? Uint8Array.from({ length: elements(fromShape) * size }, () => pick(256)) : undefined;
    const fill = from || random() < 0.5 ? undefined : Uint8Array.from({ length: size }, () => 1 + pick(255));
    const before = Uint8Array.from({ length: elements(toShape) * size }, () => pick(256));
    const expected = before.slice();
    naiveCopy(expected, toShape, toStart, from, fromShape, fromStart, extent, size, fill);
    const actual = before.slice();
    copyBox({ bytes: actual, shape: toShape, start: toStart }, { bytes: from, shape: fromShape, start: fromStart }, extent, size, fill);
    assert.deepEqual(actual, expected, `round ${round}: extent ${extent}, to ${toShape} at ${toStart}, from ${fromShape} at ${fromStart}, size ${size}, ${from ? 'source' : fill ? 'fill' : 'zeros'}`);
  }
  assert.ok(folded > 20, `only ${folded} rounds had whole trailing axes on both sides`);
});

test('copyBox leaves the target alone for an empty box', () => {
  const to = Uint8Array.from([1, 2, 3, 4]);
  copyBox({ bytes: to, shape: [2, 2], start: [0, 0] }, { bytes: new Uint8Array(4), shape: [2, 2], start: [0, 0] }, [0, 2], 1);
  assert.deepEqual(to, Uint8Array.from([1, 2, 3, 4]));
});
