/**
 * The reference's mutation smoke test, ported: every valid corpus file (and a compressed
 * file tensio wrote) is mutated deterministically — byte flips, truncation, splices of
 * another file's bytes, manifest edits with the footer hash fixed up — and each mutant must open and read (every tensor, every part,
 * every digest and CSR assembly) or fail with a `TensioError`: never another exception.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TensioError } from '../src/core/errors.js';
import { ztOpen, ztXxh3 } from '../src/formats/zt/index.js';
import { ztCreateWriter } from '../src/formats/zt/write.js';
import { memorySink } from '../src/storage/byte-sink.js';
import { sharedFile, sharedSkip } from './helpers/shared-files.js';

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

function mutate(bytes: Uint8Array, other: Uint8Array, next: () => number): Uint8Array {
  const out = bytes.slice();
  switch (next() % 5) {
    case 0: { // flip 1-4 bytes, biased towards the manifest and footer at the end
      const flips = 1 + (next() % 4);
      for (let i = 0; i < flips; i++) {
        const at = next() % 2 === 0 ? out.length - 1 - (next() % Math.min(out.length, 512)) : next() % out.length;
        out[at] ^= 1 << (next() % 8);
      }
      return out;
    }
    case 1: // truncate
      return out.subarray(0, next() % out.length);
    case 2: { // splice a run of another file over this one
      const length = 1 + (next() % 64);
      const from = next() % Math.max(1, other.length - length);
      const at = next() % Math.max(1, out.length - length);
      out.set(other.subarray(from, from + Math.min(length, out.length - at)), at);
      return out;
    }
    case 3: { // change manifest bytes and fix the footer's hash, so the CBOR and schema checks see the change
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      if (out.length < 48) return out;
      const offset = Number(view.getBigUint64(out.length - 40, true));
      const length = Number(view.getBigUint64(out.length - 32, true));
      if (length === 0 || offset + length > out.length - 40) return out;
      const edits = 1 + (next() % 3);
      for (let i = 0; i < edits; i++) out[offset + (next() % length)] = next() % 3 === 0 ? next() & 0xff : out[offset + (next() % length)]! ^ (1 << (next() % 8));
      view.setBigUint64(out.length - 24, ztXxh3(out.subarray(offset, offset + length)), true);
      return out;
    }
    default: { // an extreme little-endian u64 in the footer or a random place
      const at = next() % 2 === 0 ? out.length - 40 + 8 * (next() % 3) : next() % Math.max(1, out.length - 8);
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      if (at >= 0 && at + 8 <= out.length) view.setBigUint64(at, [0n, 2n ** 64n - 1n, 2n ** 63n, 4096n, 2n ** 30n + 1n][next() % 5]!, true);
      return out;
    }
  }
}

async function drive(bytes: Uint8Array): Promise<void> {
  const reader = await ztOpen(bytes);
  try {
    for (const [name, object] of reader.manifest?.objects ?? []) {
      for (const part of object.parts.keys()) {
        await reader.readDecoded(name, part).catch(rethrowUnlessTensio);
        await reader.verifyPart(name, part).catch(rethrowUnlessTensio);
      }
      if (object.layout === 'zt.sparse_csr/1') await reader.readCsr(name).catch(rethrowUnlessTensio);
    }
    for (const info of reader.tensors) if (!info.layout) await reader.read(info.name).catch(rethrowUnlessTensio);
  } finally {
    await reader.close();
  }
}

function rethrowUnlessTensio(error: unknown): void {
  if (!(error instanceof TensioError)) throw error;
}

test('20,000 mutants of the valid corpus files and a compressed file: each reads or fails with a TensioError', { skip: sharedSkip('conformance/ztensor/valid') }, async (t) => {
  const folder = sharedFile('conformance/ztensor/valid')!;
  const seeds: Uint8Array[] = readdirSync(folder).sort().map((name) => new Uint8Array(readFileSync(join(folder, name))));
  const sink = memorySink();
  const writer = await ztCreateWriter(sink, { tensors: [{ name: 'w', dtype: 'float32', shape: [8, 4] }, { name: 'flags', dtype: 'bool', shape: [3] }], compress: { frameBytes: 32 } });
  for (const name of writer.order) await writer.add(name, name === 'w' ? new Uint8Array(128).map((_, i) => i % 7) : Uint8Array.of(0, 1, 1));
  await writer.close();
  seeds.push(sink.bytes());
  const next = rng(0x5eed);
  const outcomes = new Map<string, number>();
  const steps = 20_000;
  for (let i = 0; i < steps; i++) {
    const seed = seeds[i % seeds.length]!;
    const mutant = mutate(seed, seeds[next() % seeds.length]!, next);
    try {
      await drive(mutant);
      outcomes.set('ok', (outcomes.get('ok') ?? 0) + 1);
    } catch (error) {
      if (!(error instanceof TensioError)) assert.fail(`mutant ${i} of seed ${i % seeds.length} threw ${String(error)}\n${(error as Error).stack}`);
      const key = 'rule' in error ? String((error as { rule: string }).rule) : error.code;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
  }
  t.diagnostic(`outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort((a, b) => b[1] - a[1])))}`);
  assert.equal([...outcomes.values()].reduce((a, b) => a + b, 0), steps);
  assert.ok((outcomes.get('ok') ?? 0) > 0 && outcomes.size > 5, JSON.stringify(Object.fromEntries(outcomes)));
});
