/**
 * `castFloatElements` against torch's `tensor.to(dtype)`, bit for bit: every float16,
 * bfloat16 and float8 pattern, and for float32/float64 the specials, every tie and
 * neighbour of every target value, subnormals and a wide random sample.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CASTABLE_FLOAT_DTYPES, castFloatElements, castItemBytes } from '../src/core/float-cast.js';
import type { DType } from '../src/core/dtype.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

/** Writes in_<dtype>.bin (the inputs) and out_<from>_<to>.bin (torch's casts). */
const ORACLE = String.raw`
import sys, os, numpy as np, torch
d = sys.argv[1]
names = ${JSON.stringify(CASTABLE_FLOAT_DTYPES)}
dt = {n: getattr(torch, n) for n in names}
rng = np.random.default_rng(20261203)
inputs = {}
# Every pattern of the narrow types.
inputs['float16'] = torch.from_numpy(np.arange(65536, dtype=np.uint16).view(np.int16)).view(torch.float16)
inputs['bfloat16'] = torch.from_numpy(np.arange(65536, dtype=np.uint16).view(np.int16)).view(torch.bfloat16)
for n in names:
    if n.startswith('float8'):
        inputs[n] = torch.arange(256, dtype=torch.int32).to(torch.uint8).view(dt[n])
# float32: every target value, its neighbours and the ties between them, plus specials and random bits.
parts = []
for n in ['float16', 'bfloat16'] + [m for m in names if m.startswith('float8')]:
    v = inputs[n].to(torch.float64)
    v = v[torch.isfinite(v)].unique().sort().values
    mid = (v[:-1] + v[1:]) / 2
    for x in (v, mid):
        x32 = x.to(torch.float32)
        bits = x32.view(torch.int32)
        parts += [x32, (bits + 1).view(torch.float32), (bits - 1).view(torch.float32)]
specials = np.array([0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff,
                     0x7fa00000, 0x7f7fffff, 0xff7fffff, 1, 0x80000001, 0x007fffff, 0x00800000], dtype=np.uint32)
parts.append(torch.from_numpy(specials.view(np.float32)))
parts.append(torch.from_numpy(rng.integers(0, 2**32, 400000, dtype=np.uint64).astype(np.uint32).view(np.float32)))
parts.append(torch.from_numpy(np.arange(0, 2**32, 8191, dtype=np.uint64).astype(np.uint32).view(np.float32)))
inputs['float32'] = torch.cat([p.reshape(-1) for p in parts])
# float64: the float32 sample widened, values just off every float32 tie (double rounding), random bits.
f32 = inputs['float32'].to(torch.float64)
b64 = torch.from_numpy(rng.integers(0, 2**63, 100000, dtype=np.int64) * np.where(rng.random(100000) < 0.5, 1, -1))
nudged = torch.cat([f32 * (1 + 2.0**-30), f32 * (1 - 2.0**-30), f32 * (1 + 2.0**-52)])
inputs['float64'] = torch.cat([f32, nudged, b64.view(torch.float64), torch.tensor([1e300, -1e300, 1e-300, 5e-324])])
for n, x in inputs.items():
    x = x.contiguous()
    x.view(torch.uint8).numpy().tofile(os.path.join(d, 'in_' + n + '.bin'))
    for m in names:
        x.to(dt[m]).contiguous().view(torch.uint8).numpy().tofile(os.path.join(d, 'out_' + n + '_' + m + '.bin'))
print(torch.__version__)
`;

/** Reads element i of a little-endian buffer of itemBytes as an unsigned integer (bits). */
function bitsAt(bytes: Uint8Array, i: number, itemBytes: number): bigint {
  let value = 0n;
  for (let b = itemBytes - 1; b >= 0; b--) value = (value << 8n) | BigInt(bytes[i * itemBytes + b]!);
  return value;
}

/** True when these bits are a NaN of the dtype. */
function isNaNBits(bits: bigint, dtype: DType): boolean {
  switch (dtype) {
    case 'float64': return (bits & 0x7fffffffffffffffn) > 0x7ff0000000000000n;
    case 'float32': return (bits & 0x7fffffffn) > 0x7f800000n;
    case 'float16': return (bits & 0x7fffn) > 0x7c00n;
    case 'bfloat16': return (bits & 0x7fffn) > 0x7f80n;
    case 'float8_e4m3fn': return (bits & 0x7fn) === 0x7fn;
    case 'float8_e5m2': return (bits & 0x7fn) > 0x7cn;
    default: return bits === 0x80n;
  }
}

test('castFloatElements matches torch .to() bit for bit (NaN bits where torch is path-independent)', { skip: oracleSkip('torch', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  const version = runPython(ORACLE, [dir], { timeoutMs: 300_000 }).stdout.trim();
  let compared = 0;
  for (const from of CASTABLE_FLOAT_DTYPES) {
    const input = new Uint8Array(await readFile(join(dir, `in_${from}.bin`)));
    const count = input.byteLength / castItemBytes(from);
    for (const to of CASTABLE_FLOAT_DTYPES) {
      const expected = new Uint8Array(await readFile(join(dir, `out_${from}_${to}.bin`)));
      const itemBytes = castItemBytes(to);
      const actual = new Uint8Array(count * itemBytes);
      // An odd offset and chunking by an odd element count exercise the unaligned and chunked paths.
      const shifted = new Uint8Array(input.byteLength + 1).subarray(1);
      shifted.set(input);
      const chunk = 70001;
      for (let at = 0; at < count; at += chunk) {
        const n = Math.min(chunk, count - at);
        castFloatElements(shifted.subarray(at * castItemBytes(from)), from, actual.subarray(at * itemBytes), to, n);
      }
      let mismatches = 0;
      let first = '';
      if (Buffer.from(expected).equals(Buffer.from(actual))) {
        compared += count;
        continue;
      }
      for (let i = 0; i < count; i++) {
        let same = true;
        for (let b = 0; b < itemBytes; b++) same &&= expected[i * itemBytes + b] === actual[i * itemBytes + b];
        if (same) continue;
        const want = bitsAt(expected, i, itemBytes);
        const got = bitsAt(actual, i, itemBytes);
        if (want === got) continue;
        // torch's NaN spelling for non-float32 sources depends on its kernel path (see float-cast.ts).
        if (from !== 'float32' && isNaNBits(want, to) && isNaNBits(got, to)) continue;
        mismatches++;
        if (!first) first = `element ${i}: input bits 0x${bitsAt(input, i, castItemBytes(from)).toString(16)}, torch 0x${want.toString(16)}, tensio 0x${got.toString(16)}`;
      }
      assert.equal(mismatches, 0, `${from} -> ${to} (torch ${version}): ${mismatches} of ${count} differ; ${first}`);
      compared += count;
    }
  }
  assert.ok(compared > 10_000_000, `compared ${compared} elements`);
});
