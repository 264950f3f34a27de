/**
 * Interop with an independent implementation of the documented format: a Python
 * script (struct + numpy, no tensio code) that reads stores tensio wrote, and writes
 * stores in NumPack's byte layout (bitmap with header, segmented array) that tensio
 * reads. NumPack itself is not installable here; this reader is written from §1 of
 * the reference notes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NumPack } from '../src/npk/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';
import { NPK_MATRIX_DTYPES, arange2d, patternTensor } from './helpers/npk-fixtures.js';

const PY_FORMAT = String.raw`
import json, os, struct, sys
import numpy as np
DT = [np.bool_, np.uint8, np.uint16, np.uint32, np.uint64, np.int8, np.int16, np.int32, np.int64,
      np.float16, np.float32, np.float64, np.complex64, np.complex128]

def read_meta(d):
    b = open(os.path.join(d, 'metadata.npkm'), 'rb').read()
    magic, version, total, count = struct.unpack_from('<IIQI', b, 0)
    assert magic == 0x424B504E, hex(magic)
    at, out = 20, {}
    for _ in range(count):
        (n,) = struct.unpack_from('<I', b, at); at += 4
        name = b[at:at+n].decode(); at += n
        (ndim,) = struct.unpack_from('<I', b, at); at += 4
        shape = list(struct.unpack_from('<%dQ' % ndim, b, at)); at += 8 * ndim
        (m,) = struct.unpack_from('<I', b, at); at += 4
        data_file = b[at:at+m].decode(); at += m
        modified, size, code = struct.unpack_from('<QQB', b, at); at += 17
        algo, level, orig, comp, has_block = struct.unpack_from('<BIQQB', b, at); at += 22
        assert (algo, level, orig, comp, has_block) == (0, 0, 0, 0, 0)
        out[name] = dict(shape=shape, data_file=data_file, modified=modified, size=size, code=code)
    assert at == len(b), (at, len(b))
    assert total == sum(e['size'] for e in out.values())
    return out

def load(d, name, e):
    dt = np.dtype(DT[e['code']])
    shape = e['shape']
    rows = shape[0] if shape else 1
    if e['data_file'].endswith('.npkseg'):
        man = json.load(open(os.path.join(d, e['data_file'])))
        assert man['version'] == 1
        raw = b''.join(open(os.path.join(d, s['file']), 'rb').read()[:s['bytes']] for s in man['segments'] if s['rows'])
    else:
        raw = open(os.path.join(d, e['data_file']), 'rb').read()
    count = int(np.prod(shape)) if shape else 1
    arr = np.frombuffer(raw, dtype=dt, count=count).reshape(shape)
    bp = os.path.join(d, 'deleted_%s.npkb' % name)
    if os.path.exists(bp) and shape:
        bb = open(bp, 'rb').read()
        total, deleted = struct.unpack_from('<QQ', bb, 0)
        assert len(bb) == 16 + 8 * ((total + 63) // 64)
        words = np.frombuffer(bb, dtype='<u8', offset=16)
        bits = np.unpackbits(words.view(np.uint8), bitorder='little')[:total].astype(bool)
        assert total - bits.sum() == deleted
        arr = arr[bits]
    return arr
`;

test('tensio-written stores read by an independent Python reader of the format (14 dtypes, bitmap, segments)', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const path = `${dir}/w.npk`;
  const expectations: Record<string, { shape: number[]; dtype: string; hex: string }> = {};
  {
    await using npk = await NumPack.open(path, { segmentTargetBytes: 512, durable: false });
    for (const dtype of NPK_MATRIX_DTYPES) {
      const tensor = patternTensor(dtype, [12, 3], 5);
      await npk.save({ [dtype]: tensor });
    }
    await npk.save({ seg: arange2d(100, 4) }); // 1600 bytes → segmented
    await npk.append({ seg: arange2d(10, 4, 400) });
    await npk.drop('seg', [0, 50, -1]);
    await npk.drop('float32', [1, 2]);
    await npk.save({ scalar: { dtype: 'float64', shape: [], data: new Uint8Array(new Float64Array([2.5]).buffer) } });
    for (const name of npk.getMemberList()) {
      const tensor = await npk.load(name);
      expectations[name] = { shape: [...tensor.shape], dtype: tensor.dtype, hex: Buffer.from(tensor.data).toString('hex') };
    }
  }
  const script = `${PY_FORMAT}
d = sys.argv[1]
meta = read_meta(d)
res = {}
for name, e in meta.items():
    a = load(d, name, e)
    res[name] = dict(shape=list(a.shape), hex=np.ascontiguousarray(a).tobytes().hex(), data_file=e['data_file'])
print(json.dumps(res))`;
  const seen = JSON.parse(runPython(script, [path]).stdout) as Record<string, { shape: number[]; hex: string; data_file: string }>;
  assert.deepEqual(Object.keys(seen).sort(), Object.keys(expectations).sort());
  for (const [name, want] of Object.entries(expectations)) {
    assert.deepEqual(seen[name]!.shape, want.shape, name);
    assert.equal(seen[name]!.hex, want.hex, name);
  }
  assert.equal(seen.seg!.data_file, 'data_seg.npkseg');
});

test('stores written by Python in NumPack layout (bitmap with header, segmented, all dtypes) read by tensio', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const script = `${PY_FORMAT}
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(7)
entries, expect = [], {}
def add(name, arr, data_file):
    code = [np.dtype(x) for x in DT].index(arr.dtype)
    entries.append((name, list(arr.shape), data_file, arr.nbytes, code))
for i, t in enumerate(DT):
    arr = (rng.integers(0, 2, (9, 4)) if t is np.bool_ else rng.integers(0, 100, (9, 4))).astype(t)
    name = 'arr_' + np.dtype(t).name
    open(os.path.join(d, 'data_%s.npkd' % name), 'wb').write(arr.tobytes())
    add(name, arr, 'data_%s.npkd' % name)
    keep = np.ones(9, bool); keep[[0, 4]] = False
    words = np.packbits(np.concatenate([keep, np.zeros(64 - 9, bool)]), bitorder='little').view('<u8')
    open(os.path.join(d, 'deleted_%s.npkb' % name), 'wb').write(struct.pack('<QQ', 9, 2) + words.tobytes())
    expect[name] = dict(shape=[7, 4], hex=arr[keep].tobytes().hex())
seg = np.arange(50 * 3, dtype=np.float32).reshape(50, 3)
os.makedirs(os.path.join(d, 'data_seg_segments'))
segs = []
for k, start in enumerate(range(0, 50, 16)):
    part = seg[start:start + 16]
    f = 'data_seg_segments/seg_%06d.npkd' % k
    open(os.path.join(d, f), 'wb').write(part.tobytes())
    segs.append(dict(file=f, rows=len(part), bytes=part.nbytes))
open(os.path.join(d, 'data_seg.npkseg'), 'w').write(json.dumps(dict(version=1, segments=segs), indent=2))
add('seg', seg, 'data_seg.npkseg')
expect['seg'] = dict(shape=[50, 3], hex=seg.tobytes().hex())
body = b''
for name, shape, data_file, size, code in entries:
    n, f = name.encode(), data_file.encode()
    body += struct.pack('<I', len(n)) + n + struct.pack('<I', len(shape)) + struct.pack('<%dQ' % len(shape), *shape)
    body += struct.pack('<I', len(f)) + f + struct.pack('<QQB', 1700000000000000, size, code) + struct.pack('<BIQQB', 0, 0, 0, 0, 0)
open(os.path.join(d, 'metadata.npkm'), 'wb').write(struct.pack('<IIQI', 0x424B504E, 1, sum(e[3] for e in entries), len(entries)) + body)
print(json.dumps(expect))`;
  const path = `${dir}/py.npk`;
  const expect = JSON.parse(runPython(script, [path]).stdout) as Record<string, { shape: number[]; hex: string }>;
  {
    await using npk = await NumPack.open(path, { readOnly: true });
    assert.deepEqual(npk.getMemberList().sort(), Object.keys(expect).sort());
    for (const [name, want] of Object.entries(expect)) {
      const got = await npk.load(name);
      assert.deepEqual(got.shape, want.shape, name);
      assert.equal(Buffer.from(got.data).toString('hex'), want.hex, name);
    }
  }
  // tensio keeps editing the Python-made store, and the Python reader agrees.
  {
    await using npk = await NumPack.open(path, { segmentTargetBytes: 16 * 12 });
    await npk.append({ seg: arange2d(20, 3, 150) });
    await npk.drop('seg', [0]);
    await npk.compact('arr_int32');
  }
  const check = `${PY_FORMAT}
d = sys.argv[1]
meta = read_meta(d)
seg = load(d, 'seg', meta['seg'])
i32 = load(d, 'arr_int32', meta['arr_int32'])
print(json.dumps(dict(seg=list(seg.shape), first=float(seg[0, 0]), last=float(seg[-1, -1]), i32=list(i32.shape), i32file=os.path.exists(os.path.join(d, 'deleted_arr_int32.npkb')))))`;
  const after = JSON.parse(runPython(check, [path]).stdout) as { seg: number[]; first: number; last: number; i32: number[]; i32file: boolean };
  assert.deepEqual(after.seg, [69, 3]);
  assert.equal(after.first, 3);
  assert.equal(after.last, 150 + 20 * 3 - 1);
  assert.deepEqual(after.i32, [7, 4]);
  assert.equal(after.i32file, false);
});
