#!/usr/bin/env node
// tensio demo: build a small model of many dtypes, write it as safetensors (with
// CRC32s), convert it safetensors -> npz -> pytorch -> npk -> safetensors through
// whatever formats this build registers, inspect and verify every result, and check
// that the tensors that arrive are byte-for-byte the ones that left.
// Run with `npm run demo` after `npm install` (which builds dist/). Files go to
// ./demo-output (git-ignored). Exits non-zero if any step fails.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const distIndex = new URL('../dist/index.js', import.meta.url);
if (!existsSync(fileURLToPath(distIndex))) {
  console.error('demo: dist/ is missing; run `npm install` (it builds dist/) or `npm run build` first');
  process.exit(1);
}
const tensio = await import(distIndex.href);
const { BUILT_IN_FORMATS, getFormat, createTensor, fromFloat32Array, convert, openTensorFile, verifyTensorFile, tensorsEqual } = tensio;

const outputFolder = fileURLToPath(new URL('../demo-output/', import.meta.url));
const CHAIN = ['safetensors', 'npz', 'pytorch', 'npk', 'safetensors'];
let failures = 0;

function fail(message) {
  failures += 1;
  console.log(`  FAIL ${message}`);
}

function bytes(n) {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}

/** The demo model: a little of everything. */
function buildModel() {
  const ramp = (count, scale, offset = 0) => Float32Array.from({ length: count }, (_, i) => i * scale + offset);
  const model = {
    'embed.weight': createTensor('float32', [16, 8], ramp(128, 0.01, -0.5)),
    'attn.q_proj.weight': fromFloat32Array(ramp(64, 0.03, -1), 'float16', [8, 8]),
    'attn.k_proj.weight': fromFloat32Array(ramp(64, -0.02, 0.7), 'bfloat16', [8, 8]),
    'norm.eps': createTensor('float64', [], Float64Array.of(1e-6)),
    'token_ids': createTensor('int64', [10], BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i * 1000 - 3000))),
    'positions': createTensor('int32', [10], Int32Array.from({ length: 10 }, (_, i) => i)),
    'attention_mask': createTensor('bool', [10], Array.from({ length: 10 }, (_, i) => i < 7)),
    'image': createTensor('uint8', [4, 4, 3], Uint8Array.from({ length: 48 }, (_, i) => (i * 37) % 256)),
    'offsets': createTensor('int8', [4], Int8Array.of(-128, -1, 1, 127)),
  };
  return model;
}

/** Writes the model with the safetensors format's own writer (through the registry). */
async function writeSafetensors(path, model) {
  const format = getFormat('safetensors');
  const writer = await format.createWriter(path, {
    tensors: Object.entries(model).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
    metadata: { 'demo.name': 'tensio demo model' },
    formatOptions: { crc32: true },
    overwrite: true,
  });
  for (const name of writer.order) await writer.add(name, model[name].data);
  await writer.close();
}

/** One line about a file: format, tensor count, dtypes; then the verify verdict. */
async function inspectAndVerify(path) {
  const reader = await openTensorFile(path);
  let names;
  try {
    const dtypes = [...new Set(reader.tensors.map((info) => info.dtype))];
    const dataBytes = reader.tensors.reduce((sum, info) => sum + info.byteLength, 0);
    console.log(`  inspect: ${reader.format}, ${reader.tensors.length} tensor${reader.tensors.length === 1 ? '' : 's'}, ${bytes(dataBytes)} of data, file(s) ${bytes(reader.size)}; dtypes ${dtypes.join(', ')}`);
    names = reader.tensors.map((info) => info.name);
  } finally {
    await reader.close();
  }
  const report = await verifyTensorFile(path);
  if (report.ok) {
    console.log(`  verify:  OK (${report.checksumsVerified} checksum${report.checksumsVerified === 1 ? '' : 's'} verified, ${report.withoutChecksum} tensor${report.withoutChecksum === 1 ? '' : 's'} checked by reading)`);
  } else {
    for (const problem of report.problems) fail(`verify ${path}: ${problem.code}: ${problem.message}`);
  }
  return names;
}

/** Compares every tensor of `path` with the original of the same name (or of `onlyName`, for a one-array .npy). */
async function compareWithOriginal(path, model, onlyName) {
  const reader = await openTensorFile(path);
  let equal = 0;
  try {
    for (const info of reader.tensors) {
      const original = model[onlyName ?? info.name];
      if (!original) {
        fail(`${info.name} appeared from nowhere`);
        continue;
      }
      const tensor = await reader.read(info.name);
      if (tensorsEqual(tensor, original)) equal += 1;
      else fail(`${info.name}: read back ${tensor.dtype} [${tensor.shape}] differs from the original ${original.dtype} [${original.shape}]`);
    }
  } finally {
    await reader.close();
  }
  return equal;
}

async function run() {
  const model = buildModel();
  const registered = new Set(BUILT_IN_FORMATS.map((format) => format.name));
  console.log(`tensio demo: formats in this build: ${[...registered].join(', ') || 'none'}`);
  await rm(outputFolder, { recursive: true, force: true });
  await mkdir(outputFolder, { recursive: true });

  if (!registered.has('safetensors')) {
    fail('the safetensors format is not registered; nothing to start from');
    return;
  }
  const chain = CHAIN.filter((name) => {
    if (registered.has(name)) return true;
    console.log(`note: ${name} is not in this build; the chain goes around it`);
    return false;
  });

  let current = join(outputFolder, 'model.safetensors');
  await writeSafetensors(current, model);
  console.log(`\n1. wrote ${Object.keys(model).length} tensors as safetensors with CRC32s: ${current}`);
  let carried = await inspectAndVerify(current);

  for (let step = 1; step < chain.length; step += 1) {
    const target = getFormat(chain[step]);
    const from = chain[step - 1];
    const extension = target.extensions[0] ?? '';
    const output = join(outputFolder, `step${step}-${target.name}${extension}`);
    console.log(`\n${step + 1}. convert ${from} -> ${target.name}: ${output}`);
    const holdable = carried.filter((name) => {
      const original = model[name];
      const reason = target.cannotWrite?.({ name, dtype: original.dtype, shape: original.shape });
      if (reason) console.log(`  note: ${target.name} cannot hold ${name} (${original.dtype}): ${reason}; it stays behind`);
      return !reason;
    });
    const started = performance.now();
    try {
      const result = await convert(current, output, { to: target.name, tensors: holdable, overwrite: true });
      const seconds = (performance.now() - started) / 1000;
      console.log(`  converted ${result.tensors} tensors, ${bytes(result.bytes)} in ${(seconds * 1000).toFixed(0)} ms`);
    } catch (error) {
      fail(`convert to ${target.name}: ${error.code ?? 'INTERNAL'}: ${error.message}`);
      return;
    }
    current = output;
    carried = await inspectAndVerify(current);
  }

  const equal = await compareWithOriginal(current, model);
  const dropped = Object.keys(model).filter((name) => !carried.includes(name));
  console.log(`\nfinal check: ${equal} of ${carried.length} tensors at the end of the chain equal the originals byte for byte`);
  if (dropped.length > 0) console.log(`  (${dropped.join(', ')} stayed behind at a format that cannot hold them)`);

  if (registered.has('npy')) {
    const npy = join(outputFolder, 'embed.npy');
    await convert(join(outputFolder, 'model.safetensors'), npy, { tensors: ['embed.weight'], overwrite: true });
    console.log(`\nbonus: one tensor as .npy: ${npy}`);
    await inspectAndVerify(npy);
    if ((await compareWithOriginal(npy, model, 'embed.weight')) !== 1) fail('embed.npy does not match the original');
    else console.log('  embed.npy equals embed.weight byte for byte');
  }
}

try {
  await run();
} catch (error) {
  fail(`${error.code ?? 'INTERNAL'}: ${error.stack ?? error}`);
}
console.log(failures === 0 ? `\ndemo passed; files are in ${outputFolder}` : `\ndemo FAILED: ${failures} problem${failures === 1 ? '' : 's'}`);
process.exitCode = failures === 0 ? 0 : 1;
