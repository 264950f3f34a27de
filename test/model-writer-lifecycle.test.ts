/**
 * One writer lifecycle for every format: the same misuses, run against every writable
 * format in the registry, get the same error code, and leave no output behind once the
 * writer is aborted. The good path publishes a file the registry reads back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isTensioError, type TensioErrorCode } from '../src/core/errors.js';
import type { TensorFormat, TensorSpec, TensorWriter } from '../src/model/types.js';
import { BUILT_IN_FORMATS, openTensorFile } from '../src/operations/index.js';
import { tempDir } from './helpers/temp.js';

const PLAN: readonly TensorSpec[] = [
  { name: 'a', dtype: 'float32', shape: [2] },
  { name: 'b', dtype: 'int32', shape: [3] },
];
const bytesOf = (spec: TensorSpec): Uint8Array => new Uint8Array(spec.shape.reduce((n, d) => n * d, 1) * 4).fill(7);

const writable = BUILT_IN_FORMATS.filter((format) => format.createWriter);

/** One tensor for formats that hold one, two otherwise (capabilities say which). */
function planFor(format: TensorFormat): readonly TensorSpec[] {
  return format.capabilities?.tensors === 'one' ? PLAN.slice(0, 1) : PLAN;
}

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part;
}

interface Misuse {
  name: string;
  code: TensioErrorCode;
  needsMany?: boolean;
  run(writer: TensorWriter, plan: readonly TensorSpec[]): Promise<unknown>;
}

const spec = (plan: readonly TensorSpec[], name: string): TensorSpec => plan.find((s) => s.name === name)!;

const MISUSES: Misuse[] = [
  { name: 'add of a name the plan does not hold', code: 'NOT_FOUND', run: (w) => w.add('nope', new Uint8Array(8)) },
  {
    name: 'add out of order', code: 'OUT_OF_ORDER', needsMany: true,
    run: (w, plan) => w.add(w.order[1]!, bytesOf(spec(plan, w.order[1]!))),
  },
  {
    name: 'add of the same tensor twice', code: 'OUT_OF_ORDER',
    run: async (w, plan) => {
      await w.add(w.order[0]!, bytesOf(spec(plan, w.order[0]!)));
      return w.add(w.order[0]!, bytesOf(spec(plan, w.order[0]!)));
    },
  },
  { name: 'close before every planned tensor arrived', code: 'INCOMPLETE', run: (w) => w.close() },
  {
    name: 'close after some but not all tensors', code: 'INCOMPLETE', needsMany: true,
    run: async (w, plan) => {
      await w.add(w.order[0]!, bytesOf(spec(plan, w.order[0]!)));
      return w.close();
    },
  },
  {
    name: 'add after close', code: 'INVALID_STATE',
    run: async (w, plan) => {
      for (const name of w.order) await w.add(name, bytesOf(spec(plan, name)));
      await w.close();
      return w.add(w.order[0]!, bytesOf(spec(plan, w.order[0]!)));
    },
  },
  { name: 'add after abort', code: 'INVALID_STATE', run: async (w, plan) => { await w.abort(); return w.add(w.order[0]!, bytesOf(spec(plan, w.order[0]!))); } },
  { name: 'too few bytes (one buffer)', code: 'SIZE_MISMATCH', run: (w) => w.add(w.order[0]!, new Uint8Array(3)) },
  {
    name: 'too many bytes (a stream)', code: 'SIZE_MISMATCH',
    run: (w, plan) => w.add(w.order[0]!, chunks(bytesOf(spec(plan, w.order[0]!)), new Uint8Array(4))),
  },
  { name: 'too few bytes (a stream)', code: 'SIZE_MISMATCH', run: (w) => w.add(w.order[0]!, chunks(new Uint8Array(2), new Uint8Array(1))) },
  {
    name: 'close after a failed add', code: 'INVALID_STATE',
    run: async (w) => {
      await w.add(w.order[0]!, new Uint8Array(1)).catch(() => undefined);
      return w.close();
    },
  },
];

// The formats come from the registry (every entry with a writer), so a new format is
// covered without editing this file; the sanity check is that each plan fits what the
// format declares it holds, so a failure below is about the lifecycle, not the plan.
test('the lifecycle table runs every registered writer with a plan its capabilities accept (sanity)', () => {
  assert.ok(writable.length >= 2, `the registry has writers: ${writable.map((format) => format.name).join(', ')}`);
  for (const format of writable) {
    for (const entry of planFor(format)) {
      assert.ok(format.capabilities.dtypes.includes(entry.dtype), `${format.name} declares ${entry.dtype}`);
      assert.equal(format.cannotWrite?.(entry), undefined, `${format.name} can write ${entry.name}`);
    }
  }
});

for (const format of writable) {
  const extension = format.extensions[0]!;
  for (const misuse of MISUSES) {
    const plan = planFor(format);
    if (misuse.needsMany && plan.length < 2) continue;
    test(`${format.name}: ${misuse.name} -> ${misuse.code}; abort leaves nothing`, async (t) => {
      const dir = await tempDir(t);
      const writer = await format.createWriter!(join(dir, `out${extension}`), { tensors: plan });
      await assert.rejects(misuse.run(writer, plan), (error) => {
        assert.ok(isTensioError(error, misuse.code), `${format.name}: expected ${misuse.code}, got ${(error as { code?: string }).code}: ${(error as Error).message}`);
        return true;
      });
      await writer.abort();
      const left = misuse.name === 'add after close' ? (await readdir(dir)).filter((name) => !name.startsWith('out')) : await readdir(dir);
      assert.deepEqual(left, [], `${format.name} left ${left.join(', ')}`);
    });
  }

  test(`${format.name}: a plan naming a tensor twice is refused before any file exists (DUPLICATE_NAME)`, async (t) => {
    const dir = await tempDir(t);
    const plan = [PLAN[0]!, PLAN[0]!];
    await assert.rejects(format.createWriter!(join(dir, `out${extension}`), { tensors: plan }), (error) => isTensioError(error, 'DUPLICATE_NAME', 'INVALID_ARGUMENT'));
    assert.deepEqual(await readdir(dir), []);
  });

  test(`${format.name}: add in order, close publishes what the registry reads back`, async (t) => {
    const dir = await tempDir(t);
    const plan = planFor(format);
    const path = join(dir, `out${extension}`);
    const writer = await format.createWriter!(path, { tensors: plan });
    for (const name of writer.order) await writer.add(name, bytesOf(spec(plan, name)));
    await writer.close();
    await writer.close(); // a second close is a no-op
    await writer.abort(); // and abort after close keeps the file
    // Text keeps no dtype: csv/txt read back as the dtype asked for (float64 by default).
    const text = format.name === 'csv' || format.name === 'txt';
    await using reader = await openTensorFile(path, { format: format.name, ...(text ? { formatOptions: { dtype: plan[0]!.dtype } } : {}) });
    assert.equal(reader.tensors.length, plan.length);
    for (const info of plan) {
      const name = plan.length === 1 && format.capabilities?.tensors === 'one' ? reader.tensors[0]!.name : info.name;
      assert.deepEqual((await reader.read(name)).data, bytesOf(info));
    }
  });
}
