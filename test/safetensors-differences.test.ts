/** Where tensio deliberately differs from the reference safetensors reader. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesSource, isTensioError } from '../src/index.js';
import { safetensorsOpen } from '../src/formats/safetensors/index.js';
import { oracleSkip, runPython } from './helpers/oracle.js';
import { tempDir } from './helpers/temp.js';

function fileWithHeader(header: string, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

test('a tensor entry written as a JSON list (serde accepts it) is refused by tensio', async () => {
  const file = fileWithHeader('{"a":["U8",[1],[0,1]]}', new Uint8Array([7]));
  await assert.rejects(safetensorsOpen(bytesSource(file)), (e) => isTensioError(e, 'INVALID_JSON', 'INVALID_HEADER'));
  // The object form of the same entry reads.
  await using ok = await safetensorsOpen(bytesSource(fileWithHeader('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', new Uint8Array([7]))));
  assert.deepEqual([...(await ok.read('a')).data], [7]);
});

test('the reference library does load the list form (the difference is real)', { skip: oracleSkip('safetensors', 'numpy') }, async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'list.safetensors'), fileWithHeader('{"a":["U8",[1],[0,1]]}', new Uint8Array([7])));
  const { stdout } = runPython('import sys; from safetensors.numpy import load_file; print(load_file(sys.argv[1])["a"].tolist())', [join(dir, 'list.safetensors')]);
  assert.equal(stdout.trim(), '[7]');
});
