/**
 * allowUnknownGlobals / --allow-unknown-globals: checkpoints with harmless extra objects
 * (argparse.Namespace, numpy scalars, a config class) are refused by default with a
 * message naming the option; with it their tensors read, and malicious payloads still
 * never run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convert, isTensioError, openTensorFile, TensioError } from '../src/index.js';
import { pytorchOpen } from '../src/formats/pytorch/index.js';
import { cliErrorCode, runCli } from './helpers/cli.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { binUnicode, craftCheckpoint, pickleBytes, shortBinUnicode } from './helpers/pytorch-craft.js';
import { tempDir } from './helpers/temp.js';

/** A training checkpoint as fairseq / older Lightning / custom loops save it. */
const SAVE_CHECKPOINT = String.raw`
import sys, argparse, numpy as np, torch
class Config:
    def __init__(self):
        self.hidden = 16
        self.name = 'tiny'
torch.manual_seed(0)
model = {'encoder.weight': torch.randn(4, 3), 'encoder.bias': torch.arange(4, dtype=torch.float32), 'head.weight': torch.randn(2, 4).to(torch.bfloat16)}
torch.save({
    'model': model,
    'args': argparse.Namespace(lr=0.1, layers=2),
    'best_loss': np.float64(0.25),
    'step': np.int64(1000),
    'config': Config(),
    'optimizer': {'state': {}, 'param_groups': [{'lr': 0.1}]},
}, sys.argv[1])
`;

test('harmless extra objects: refused by default with the option named and each global listed once; read with allowUnknownGlobals', { skip: oracleSkip('torch', 'numpy', 'safetensors') }, async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'checkpoint.pt');
  runPython(SAVE_CHECKPOINT, [path]);

  let refusal: TensioError | undefined;
  await assert.rejects(pytorchOpen(path, { key: 'model' }), (error) => {
    refusal = error as TensioError;
    return isTensioError(error, 'UNSAFE_PICKLE');
  });
  const message = refusal!.message;
  assert.match(message, /allowUnknownGlobals: true \(CLI: --allow-unknown-globals\)/);
  const refused = /refused: ([^;]+);/.exec(message)![1]!.split(', ');
  assert.equal(new Set(refused).size, refused.length, `each global once: ${refused.join(', ')}`);
  for (const expected of ['argparse.Namespace', '__main__.Config']) assert.ok(refused.includes(expected), `${expected} in ${refused.join(', ')}`);
  assert.ok(refused.some((name) => /^numpy\.(_core|core)\.multiarray\.scalar$/.test(name)), refused.join(', '));

  const cliRefused = await runCli(['convert', path, join(dir, 'x.safetensors'), '--key', 'model']);
  assert.equal(cliRefused.code, 1);
  assert.equal(cliErrorCode(cliRefused.stderr), 'UNSAFE_PICKLE');
  assert.match(cliRefused.stderr, /--allow-unknown-globals/);

  // Opted in: everything opens; the extra objects are placeholders in metadata.
  await using reader = await pytorchOpen(path, { allowUnknownGlobals: true });
  assert.deepEqual(reader.tensors.map((info) => info.name).sort(), ['model.encoder.bias', 'model.encoder.weight', 'model.head.weight']);
  assert.equal(reader.metadata['args'], '<argparse.Namespace(…) placeholder>');
  assert.match(String(reader.metadata['config']), /__main__\.Config.*placeholder/);
  assert.match(String(reader.metadata['step']), /placeholder/);

  const run = await runCli(['convert', path, join(dir, 'model.safetensors'), '--key', 'model', '--allow-unknown-globals']);
  assert.equal(run.code, 0, run.stderr);
  const compared = runPython(String.raw`
import sys, json, torch
from safetensors.torch import load_file
class Config: pass  # the class the checkpoint names, so that torch can load it here
want = torch.load(sys.argv[1], weights_only=False)['model']
got = load_file(sys.argv[2])
print(json.dumps(sorted(got) == sorted(want) and all(torch.equal(got[k], want[k]) and got[k].dtype == want[k].dtype for k in want)))
`, [path, join(dir, 'model.safetensors')]);
  assert.equal(compared.stdout.trim(), 'true');
  const inspected = await runCli(['inspect', path, '--allow-unknown-globals', '--json']);
  assert.equal(inspected.code, 0, inspected.stderr);
});

const PROTO2 = pickleBytes(0x80, 2);
const TUPLE1 = 0x85;

/** Pickles that run a shell command under Python's pickle.loads (see pytorch-malicious.test.ts for the live control). */
const PAYLOADS: Array<{ name: string; pickle(command: string, marker: string): Uint8Array }> = [
  { name: 'os.system via GLOBAL+REDUCE', pickle: (cmd) => pickleBytes(PROTO2, 'cos\nsystem\n', binUnicode(cmd), TUPLE1, 'R.') },
  { name: 'builtins.eval', pickle: (cmd) => pickleBytes(PROTO2, 'cbuiltins\neval\n', binUnicode(`__import__('os').system(${JSON.stringify(cmd)})`), TUPLE1, 'R.') },
  { name: 'subprocess.Popen gadget', pickle: (_cmd, marker) => pickleBytes(PROTO2, 'csubprocess\nPopen\n', ']', binUnicode('touch'), 'a', binUnicode(marker), 'a', TUPLE1, 'R.') },
  { name: 'STACK_GLOBAL from the memo', pickle: (cmd) => pickleBytes(0x80, 4, shortBinUnicode('os'), 0x94, '0', shortBinUnicode('system'), 0x94, '0', 'h\x00h\x01', 0x93, binUnicode(cmd), TUPLE1, 'R.') },
  { name: 'getattr chain', pickle: (cmd) => pickleBytes(PROTO2, 'cbuiltins\ngetattr\n(cbuiltins\n__import__\n(', binUnicode('os'), 'tR', binUnicode('system'), 'tR(', binUnicode(cmd), 'tR.') },
  { name: 'NEWOBJ then BUILD on an unknown class', pickle: (cmd) => pickleBytes(PROTO2, 'cos\nsystem\n', ')', 0x81, '}', binUnicode('cmd'), binUnicode(cmd), 's', 'b.') },
  { name: 'payload after a legitimate entry', pickle: (cmd) => pickleBytes(PROTO2, 'ccollections\nOrderedDict\n)R', binUnicode('epoch'), 'K\x03s', binUnicode('evil'), 'cposix\nsystem\n', binUnicode(cmd), TUPLE1, 'Rs.') },
  { name: 'INST opcode (still refused)', pickle: (cmd) => pickleBytes(PROTO2, '(', binUnicode(cmd), 'ios\nsystem\n.') },
];

for (const payload of PAYLOADS) {
  test(`allowUnknownGlobals never runs a payload: ${payload.name}`, async (t) => {
    const dir = await tempDir(t);
    const marker = join(dir, 'pwned');
    const path = join(dir, 'evil.pt');
    await writeFile(path, craftCheckpoint(payload.pickle(`touch ${marker}`, marker)));
    // Refused by default, as before.
    await assert.rejects(openTensorFile(path), (error) => isTensioError(error, 'UNSAFE_PICKLE'));
    // Opted in: read (the payload is an inert placeholder) or refused (INST) — never run.
    try {
      await using reader = await pytorchOpen(path, { allowUnknownGlobals: true });
      assert.equal(reader.tensors.length, 0);
      assert.match(JSON.stringify(reader.metadata), /placeholder/);
    } catch (error) {
      assert.ok(isTensioError(error, 'UNSAFE_PICKLE'), String(error));
    }
    await convert(path, join(dir, 'out.safetensors'), { readOptions: { allowUnknownGlobals: true } }).catch((error: unknown) => {
      assert.ok(isTensioError(error), String(error));
    });
    await runCli(['inspect', path, '--allow-unknown-globals']);
    await new Promise((resolve) => setTimeout(resolve, 100)); // a spawned child would have touched it by now
    assert.equal(existsSync(marker), false, 'the payload ran');
  });
}
