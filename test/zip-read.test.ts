import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileSource } from '../src/storage/file-source.js';
import { zipOpen } from '../src/zip/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function readAllDigests(path: string, options: { checkCrc?: boolean } = {}): Promise<Record<string, string>> {
  const source = await fileSource(path);
  try {
    const zip = await zipOpen(source);
    const out: Record<string, string> = {};
    for (const entry of zip.entries) {
      const whole = await zip.readEntry(entry, options);
      const parts: Uint8Array[] = [];
      for await (const chunk of zip.streamEntry(entry, { chunkBytes: 4096, ...options })) parts.push(chunk);
      assert.equal(sha256(Buffer.concat(parts)), sha256(whole), entry.name);
      out[entry.name] = sha256(whole);
    }
    return out;
  } finally {
    await source.close();
  }
}

test('reads zips written by Python zipfile: stored, deflated, zip64 extras, descriptors, comment', { skip: oracleSkip('numpy') }, async (t) => {
  const dir = await tempDir(t);
  const { stdout } = runPython(`
import zipfile, sys, json, hashlib, io, os
dir = sys.argv[1]
payloads = {'a.txt': b'hello', 'dir/b.bin': bytes(range(256)) * 300, 'empty': b'', 'z.bin': os.urandom(100000)}
digests = {k: hashlib.sha256(v).hexdigest() for k, v in payloads.items()}
with zipfile.ZipFile(os.path.join(dir, 'stored.zip'), 'w') as z:
    for k, v in payloads.items(): z.writestr(k, v)
    z.comment = b'a comment at the end'
with zipfile.ZipFile(os.path.join(dir, 'deflated.zip'), 'w', compression=zipfile.ZIP_DEFLATED) as z:
    for k, v in payloads.items(): z.writestr(k, v)
with zipfile.ZipFile(os.path.join(dir, 'zip64.zip'), 'w') as z:
    for k, v in payloads.items():
        with z.open(k, 'w', force_zip64=True) as f: f.write(v)
class Unseekable(io.RawIOBase):
    def __init__(self, f): self.f = f
    def writable(self): return True
    def write(self, b): return self.f.write(b)
    def seekable(self): return False
with open(os.path.join(dir, 'streamed.zip'), 'wb') as raw:
    with zipfile.ZipFile(Unseekable(raw), 'w', compression=zipfile.ZIP_DEFLATED) as z:
        for k, v in payloads.items():
            with z.open(k, 'w') as f: f.write(v)
print(json.dumps(digests))
`, [dir]);
  const expected = JSON.parse(stdout) as Record<string, string>;
  for (const file of ['stored.zip', 'deflated.zip', 'zip64.zip', 'streamed.zip']) {
    assert.deepEqual(await readAllDigests(join(dir, file)), expected, file);
  }
});

test('reads a torch.save checkpoint: entries, 64-byte aligned storages, CRCs', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'model.pt');
  const { stdout } = runPython(`
import torch, zipfile, sys, json, hashlib
torch.manual_seed(0)
torch.save({'w': torch.randn(3, 5), 'b': torch.arange(7, dtype=torch.int64)}, sys.argv[1])
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps({i.filename: hashlib.sha256(z.read(i)).hexdigest() for i in z.infolist()}))
`, [path]);
  const expected = JSON.parse(stdout) as Record<string, string>;
  assert.deepEqual(await readAllDigests(path), expected);
  const source = await fileSource(path);
  try {
    const zip = await zipOpen(source, { format: 'pytorch' });
    const storages = zip.entries.filter((entry) => /\/data\/\d+$/.test(entry.name));
    assert.equal(storages.length, 2);
    for (const entry of storages) assert.equal((await zip.dataOffset(entry)) % 64, 0, entry.name);
  } finally {
    await source.close();
  }
});
