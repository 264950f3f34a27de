/**
 * The GGUF reader's own UTF-8 decoder for short strings (vocabulary tokens) against
 * TextDecoder (ignoreBOM, the reference it falls back to): random byte strings weighted
 * toward multi-byte, overlong, surrogate, truncated and out-of-range sequences, every
 * length 0-80, decode to the same text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeUtf8 } from '../src/formats/gguf/read.js';

test('short-string UTF-8 decoding equals TextDecoder on 200,000 random and ill-formed byte strings', () => {
  const reference = new TextDecoder('utf-8', { ignoreBOM: true });
  const pieces = [[0x41], [0x7f], [0xc2, 0xa9], [0xc0, 0x80], [0xc1, 0xbf], [0xe2, 0x82, 0xac], [0xe0, 0x80, 0x80], [0xe0, 0xa0, 0x80], [0xed, 0xa0, 0x80], [0xed, 0x9f, 0xbf],
    [0xef, 0xbb, 0xbf], [0xf0, 0x9f, 0x98, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0x80], [0xbf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xff], [0xc3]];
  let seed = 12345;
  const next = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8; };
  const buffer = new Uint8Array(200);
  for (let round = 0; round < 200_000; round++) {
    const target = next() % 81;
    let n = 0;
    while (n < target) {
      const piece = next() % 4 === 0 ? [next() & 255] : pieces[next() % pieces.length]!;
      for (const byte of piece) if (n < target) buffer[n++] = byte;
    }
    const at = next() % 3;
    const bytes = new Uint8Array(n + at);
    bytes.set(buffer.subarray(0, n), at);
    assert.equal(decodeUtf8(bytes, at, n), reference.decode(bytes.subarray(at, at + n)), `bytes ${Array.from(bytes.subarray(at), (b) => b.toString(16)).join(' ')}`);
  }
});
