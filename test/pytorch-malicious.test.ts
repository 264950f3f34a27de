import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';
import { binUnicode, craftCheckpoint, pickleBytes, shortBinUnicode } from './helpers/pytorch-craft.js';
import { convert, isTensioError, openTensorFile } from '../src/index.js';
import { pickleScanGlobals, pytorchListGlobals, pytorchOpen, PYTORCH_LEGACY_MAGIC } from '../src/formats/pytorch/index.js';

const PROTO2 = pickleBytes(0x80, 2);
const TUPLE1 = 0x85;

/** Each payload, given a shell command, is a pickle that runs it when Python unpickles it. */
const PAYLOADS: Array<{ name: string; global: string; pickle(command: string, marker: string): Uint8Array }> = [
  { name: 'posix.system via GLOBAL+REDUCE', global: 'posix.system', pickle: (cmd) => pickleBytes(PROTO2, 'cposix\nsystem\n', binUnicode(cmd), TUPLE1, 'R.') },
  { name: 'os.system via GLOBAL+REDUCE', global: 'os.system', pickle: (cmd) => pickleBytes(PROTO2, 'cos\nsystem\n', binUnicode(cmd), TUPLE1, 'R.') },
  { name: 'builtins.eval', global: 'builtins.eval', pickle: (cmd) => pickleBytes(PROTO2, 'cbuiltins\neval\n', binUnicode(`__import__('os').system(${JSON.stringify(cmd)})`), TUPLE1, 'R.') },
  { name: 'builtins.exec', global: 'builtins.exec', pickle: (cmd) => pickleBytes(PROTO2, 'cbuiltins\nexec\n', binUnicode(`import os; os.system(${JSON.stringify(cmd)})`), TUPLE1, 'R.') },
  { name: 'Python 2 __builtin__.eval (remapped)', global: 'builtins.eval', pickle: (cmd) => pickleBytes(PROTO2, 'c__builtin__\neval\n', binUnicode(`__import__('os').system(${JSON.stringify(cmd)})`), TUPLE1, 'R.') },
  {
    name: 'subprocess.Popen gadget', global: 'subprocess.Popen',
    pickle: (_cmd, marker) => pickleBytes(PROTO2, 'csubprocess\nPopen\n', ']', binUnicode('touch'), 'a', binUnicode(marker), 'a', TUPLE1, 'R.'),
  },
  {
    name: 'STACK_GLOBAL with its strings from the memo', global: 'os.system',
    pickle: (cmd) => pickleBytes(0x80, 4, shortBinUnicode('os'), 0x94, '0', shortBinUnicode('system'), 0x94, '0', 'h\x00h\x01', 0x93, binUnicode(cmd), TUPLE1, 'R.'),
  },
  {
    name: 'getattr chain', global: 'builtins.getattr',
    pickle: (cmd) => pickleBytes(PROTO2, 'cbuiltins\ngetattr\n(cbuiltins\n__import__\n(', binUnicode('os'), 'tR', binUnicode('system'), 'tR(', binUnicode(cmd), 'tR.'),
  },
  { name: 'INST opcode', global: 'os.system', pickle: (cmd) => pickleBytes(PROTO2, '(', binUnicode(cmd), 'ios\nsystem\n.') },
  {
    name: 'payload hidden in a state dict after a legitimate entry', global: 'posix.system',
    pickle: (cmd) => pickleBytes(PROTO2, 'ccollections\nOrderedDict\n)R', binUnicode('epoch'), 'K\x03s', binUnicode('evil'), 'cposix\nsystem\n', binUnicode(cmd), TUPLE1, 'Rs.'),
  },
];

/** Asserts that tensio refuses the file everywhere it can be opened, lists the global, and ran nothing. */
async function assertRefused(path: string, dir: string, marker: string, global: string): Promise<void> {
  await assert.rejects(pytorchOpen(path), (err) => isTensioError(err, 'UNSAFE_PICKLE'));
  await assert.rejects(openTensorFile(path), (err) => isTensioError(err, 'UNSAFE_PICKLE'));
  await assert.rejects(convert(path, join(dir, 'out.pt')), (err) => isTensioError(err, 'UNSAFE_PICKLE'));
  assert.equal(existsSync(join(dir, 'out.pt')), false);
  const report = await pytorchListGlobals(path);
  assert.equal(report.safe, false);
  assert.ok(report.globals.some((entry) => entry.global === global && !entry.allowed), `${global} listed: ${JSON.stringify(report.globals)}`);
  assert.equal(existsSync(marker), false, 'the payload ran');
}

for (const payload of PAYLOADS) {
  test(`refuses ${payload.name} (UNSAFE_PICKLE, names ${payload.global}, runs nothing)`, async (t) => {
    const dir = await tempDir(t);
    const marker = join(dir, 'pwned');
    const path = join(dir, 'evil.pt');
    await writeFile(path, craftCheckpoint(payload.pickle(`touch ${marker}`, marker)));
    await assertRefused(path, dir, marker, payload.global);
  });
}

test('control: the same payloads are live (Python pickle.loads runs them)', { skip: oracleSkip() }, async (t) => {
  const dir = await tempDir(t);
  for (const [i, payload] of PAYLOADS.entries()) {
    const control = join(dir, `control-${i}`);
    await writeFile(join(dir, `p${i}.pkl`), payload.pickle(`touch ${control}`, control));
    runPython('import pickle, sys\ntry:\n    pickle.loads(open(sys.argv[1], "rb").read())\nexcept Exception:\n    pass\n', [join(dir, `p${i}.pkl`)]);
    // Popen runs asynchronously: give the child a moment.
    for (let wait = 0; wait < 50 && !existsSync(control); wait++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(existsSync(control), true, `${payload.name} should be a working payload`);
  }
});

test('refuses a legacy-format checkpoint whose main pickle calls os.system', async (t) => {
  const dir = await tempDir(t);
  const marker = join(dir, 'pwned');
  const magic = Buffer.alloc(10);
  let rest = PYTORCH_LEGACY_MAGIC;
  for (let i = 0; i < 10; i++, rest >>= 8n) magic[i] = Number(rest & 0xffn);
  const file = pickleBytes(
    PROTO2, 0x8a, 10, new Uint8Array(magic), '.',
    PROTO2, 'M\xe9\x03.',
    PROTO2, '}.',
    PAYLOADS[1]!.pickle(`touch ${marker}`, marker),
    PROTO2, ']', '.',
  );
  const path = join(dir, 'legacy-evil.pt');
  await writeFile(path, file);
  await assertRefused(path, dir, marker, 'os.system');
});

test('refuses a real torch.save of an object whose __reduce__ returns (os.system, ...), never loaded by Python', { skip: oracleSkip('torch') }, async (t) => {
  const dir = await tempDir(t);
  const marker = join(dir, 'pwned');
  const path = join(dir, 'evil.pt');
  runPython(String.raw`
import os, sys, torch
class Evil:
    def __reduce__(self):
        return (os.system, ('touch ' + sys.argv[2],))
torch.save({'weight': torch.zeros(2), 'evil': Evil()}, sys.argv[1])
`, [path, marker]);
  assert.equal(existsSync(marker), false);
  await assertRefused(path, dir, marker, 'posix.system');
  // Every other global of that file is on the allow-list.
  const report = await pytorchListGlobals(path);
  assert.deepEqual(report.globals.filter((entry) => !entry.allowed).map((entry) => entry.global), ['posix.system']);
});

test('the scanner reports an unresolvable STACK_GLOBAL as unresolved, never allowed', () => {
  const pickle = pickleBytes(0x80, 4, 'K\x01K\x02', 0x93, '.');
  const report = pickleScanGlobals(pickle);
  assert.equal(report.globals.length, 1);
  assert.equal(report.globals[0]!.global, undefined);
  assert.equal(report.globals[0]!.allowed, false);
});
