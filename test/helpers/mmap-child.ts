/**
 * Child process for the memory-mapping tests (test/mmap.test.ts), so that what may
 * kill a process (SIGBUS), needs `--expose-gc` or another environment
 * (`TENSIO_NO_MMAP=1`) stays out of the test runner. Prints one JSON line.
 *
 * - `hashes FILE...`: sha256 of every tensor of every file (read(), then stream()),
 *   with whether the read was mapped.
 * - `truncate-read FILE NAME`: reads NAME (mapped), truncates the file to half of the
 *   tensor, then sums every byte of the tensor it already holds.
 * - `truncate-stream FILE NAME`: streams NAME and truncates the file after the first chunk.
 * - `truncate-before-read FILE NAME`: opens, truncates, then reads NAME.
 * - `outlive FILE NAME`: reads NAME, closes the reader, collects garbage, sums the bytes;
 *   then drops the tensor, collects again and reports the live mappings before and after.
 * - `churn FILE NAME COUNT`: reads NAME (mapped) COUNT times, dropping each result, with
 *   no explicit garbage collection; reports the most mappings alive at once.
 * - `each-hashes FILE...`: sha256 of every tensor of every file through `readEach`
 *   (mapped and populated ahead where the addon maps, then `copy: true`).
 * - `truncate-each FILE`: `readEach` over every tensor (populated ahead); after the first
 *   is handed out the file is cut to half of it; every tensor given is summed. Reports
 *   the error code the loop ended with and what populating a mapping of the cut range says.
 * - `transfer FILE NAME`: reads NAME (mapped), puts its buffer through `structuredClone`
 *   and `postMessage` transfer lists; reports whether the copies and the original still
 *   hold the bytes.
 * - `stream-detach FILE NAME`: reads NAME (mapped), moves it through a web byte stream
 *   (which detaches its buffer), drops and collects the emptied original, sums the moved
 *   bytes; then drops those and reports the live mappings before and after.
 * - `populate-detach FILE NAME FIFO`: (run with UV_THREADPOOL_SIZE=1) blocks libuv's one
 *   worker thread on opening the FIFO for reading, so a populate job asked for after it
 *   stays queued however long the rest takes; reads NAME (mapped), populates it, moves it
 *   through a web byte stream, drops and collects both the emptied original and the moved
 *   bytes; reports the live mappings while the job is pending, then opens the FIFO for
 *   writing (the worker goes on), awaits the job and reports how it ended and the live
 *   mappings once collected.
 * - `charge FILE NAME COUNT`: reads NAME (mapped, not populated) COUNT times, keeping
 *   every result; reports how much V8's external-memory counter grew (the addon's
 *   `stats().externalMemory`), and what it is at after the results are dropped and collected.
 * - `collections FILE COUNT`: reads the file's first tensor (mapped) COUNT times, keeping
 *   every result, giving V8 100 ms after each; reports the mark-compacts that ended
 *   meanwhile (PerformanceObserver 'gc' entries) and what `process.memoryUsage().external`
 *   (V8's ArrayBuffer backing-store bytes) grew by. Every line also reports `accounting` (`memoryMapStatus().mappingAccounting`).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants as perfConstants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { MessageChannel } from 'node:worker_threads';
import { openTensorFile, isMemoryMapped, memoryMapFaulted, memoryMapPopulatePending, memoryMapStatus, populateMappedView, readEach } from '../../src/index.js';
import { byteSum, errorCodeOf } from './child-memory.js';

const [mode, ...args] = process.argv.slice(2);

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

const out: Record<string, unknown> = { mode, mapping: memoryMapStatus().enabled, accounting: memoryMapStatus().mappingAccounting };
if (mode === 'hashes') {
  const files: Record<string, Record<string, { read: string; stream: string; mapped: boolean }>> = {};
  for (const path of args) {
    await using reader = await openTensorFile(path);
    const tensors: Record<string, { read: string; stream: string; mapped: boolean }> = {};
    for (const info of reader.tensors) {
      const tensor = await reader.read(info.name);
      const streamed = createHash('sha256');
      for await (const chunk of reader.stream(info.name, { chunkBytes: 100_000, reuseBuffer: true })) streamed.update(chunk);
      tensors[info.name] = { read: createHash('sha256').update(tensor.data).digest('hex'), stream: streamed.digest('hex'), mapped: isMemoryMapped(tensor.data) };
    }
    files[path] = tensors;
  }
  out.files = files;
} else if (mode === 'truncate-read') {
  const [path, name] = args as [string, string];
  const reader = await openTensorFile(path);
  const tensor = await reader.read(name);
  out.mapped = isMemoryMapped(tensor.data);
  out.before = byteSum(tensor.data.subarray(0, 4096));
  const offset = (reader.info(name).extras?.dataOffset as number | undefined) ?? 0;
  truncateSync(path, offset + Math.floor(tensor.data.byteLength / 2));
  out.sum = byteSum(tensor.data);
  out.faulted = memoryMapFaulted(tensor.data);
  out.faults = memoryMapStatus().faults ?? 0;
  await reader.close();
} else if (mode === 'truncate-stream') {
  const [path, name] = args as [string, string];
  const reader = await openTensorFile(path);
  let chunks = 0;
  out.error = await errorCodeOf(async () => {
    for await (const chunk of reader.stream(name, { chunkBytes: 65536 })) {
      if (chunks === 0) truncateSync(path, 4096);
      chunks++;
      byteSum(chunk);
    }
  });
  out.chunks = chunks;
  await reader.close();
} else if (mode === 'truncate-before-read') {
  const [path, name] = args as [string, string];
  const reader = await openTensorFile(path);
  truncateSync(path, 4096);
  out.error = await errorCodeOf(() => reader.read(name));
  await reader.close();
} else if (mode === 'outlive') {
  const [path, name] = args as [string, string];
  const reader = await openTensorFile(path);
  let tensor: { data: Uint8Array } | undefined = await reader.read(name);
  const expected = byteSum((await reader.read(name, { copy: true })).data);
  out.mapped = isMemoryMapped(tensor.data);
  await reader.close();
  collect();
  out.sumAfterClose = byteSum(tensor.data);
  out.expected = expected;
  out.liveWhileHeld = memoryMapStatus().liveMappings;
  tensor = undefined;
  // Finalizers of external buffers run after a full collection, sometimes on the next tick.
  for (let round = 0; round < 5; round++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  out.liveAfterDrop = memoryMapStatus().liveMappings;
} else if (mode === 'churn') {
  const [path, name, count] = args as [string, string, string];
  await using reader = await openTensorFile(path);
  let most = 0;
  let mapped = 0;
  for (let round = 0; round < Number(count); round++) {
    if (isMemoryMapped((await reader.read(name)).data)) mapped++;
    // Finalizers (the unmaps) run from the event loop, as they would in an application.
    if (round % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    most = Math.max(most, memoryMapStatus().liveMappings ?? 0);
  }
  out.mapped = mapped;
  out.most = most;
} else if (mode === 'collections') {
  const [path, count] = args as [string, string];
  collect();
  await new Promise((resolve) => setTimeout(resolve, 100));
  let majors = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if ((entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  });
  observer.observe({ entryTypes: ['gc'] });
  const externalBefore = process.memoryUsage().external;
  const kept: Uint8Array[] = [];
  await using reader = await openTensorFile(path);
  for (let round = 0; round < Number(count); round++) {
    kept.push((await reader.read(reader.tensors[0]!.name)).data);
    // Long enough for incremental marking started by the map to finish (25-75 ms measured).
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  out.external = process.memoryUsage().external - externalBefore;
  out.mapped = kept.filter((view) => isMemoryMapped(view)).length;
  out.bytes = kept.reduce((sum, view) => sum + view.byteLength, 0);
  observer.disconnect();
  out.majorCollections = majors;
} else if (mode === 'transfer') {
  const [path, name] = args as [string, string];
  await using reader = await openTensorFile(path);
  const tensor = await reader.read(name);
  const copy = (await reader.read(name, { copy: true })).data;
  const buffer = tensor.data.buffer as ArrayBuffer;
  const same = (bytes: Uint8Array) => bytes.byteLength === copy.byteLength && bytes.every((byte, index) => byte === copy[index]);
  const cloned = structuredClone(buffer, { transfer: [buffer] });
  const { port1, port2 } = new MessageChannel();
  const received = new Promise<ArrayBuffer>((resolve) => port2.once('message', resolve));
  port1.postMessage(buffer, [buffer]);
  const posted = await received;
  port1.close();
  out.transfer = { mapped: isMemoryMapped(tensor.data), cloneEqual: same(new Uint8Array(cloned)), postEqual: same(new Uint8Array(posted)), lengthAfter: buffer.byteLength, sameAsCopy: same(tensor.data) };
} else if (mode === 'stream-detach') {
  // A web byte stream detaches the chunk's buffer and moves its store to a new one; the
  // emptied original is then dropped and collected while the moved bytes are still held.
  const [path, name] = args as [string, string];
  const reader = await openTensorFile(path);
  const expected = byteSum((await reader.read(name, { copy: true })).data);
  // Says whether the emptied original was collected (else this mode would prove nothing).
  out.originalCollected = false;
  const registry = new FinalizationRegistry(() => { out.originalCollected = true; });
  // In a function of its own, so that nothing here (the stream, its source, the view) holds the emptied original afterwards.
  const moveThroughStream = async (): Promise<Uint8Array | undefined> => {
    const tensor = await reader.read(name, { populate: false });
    out.mapped = isMemoryMapped(tensor.data);
    registry.register(tensor.data.buffer, 'original');
    const stream = new ReadableStream({ type: 'bytes', start(controller) { controller.enqueue(tensor.data); controller.close(); } });
    const { value } = await stream.getReader().read();
    out.detached = tensor.data.byteLength === 0;
    return value;
  };
  let moved = await moveThroughStream();
  await reader.close();
  const settle = async () => {
    for (let round = 0; round < 3; round++) {
      collect();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await settle();
  out.liveWhileMovedHeld = memoryMapStatus().liveMappings;
  out.sumMoved = byteSum(moved!);
  out.expected = expected;
  moved = undefined;
  await settle();
  out.liveAfterDrop = memoryMapStatus().liveMappings;
} else if (mode === 'populate-detach') {
  // A populate job keeps its mapping alive however its buffer's bytes move (issue 15): the
  // job is held queued behind a blocked worker thread, so nothing here depends on timing.
  const [path, name, fifo] = args as [string, string, string];
  const reader = await openTensorFile(path);
  const tensor = await reader.read(name, { populate: false });
  out.mapped = isMemoryMapped(tensor.data);
  // libuv's only worker waits in open() until a writer comes: the populate job queues behind it.
  const blocker = open(fifo, 'r');
  out.collected = [] as string[];
  const registry = new FinalizationRegistry((which: string) => { (out.collected as string[]).push(which); });
  // In a function of its own, so that nothing here holds the moved bytes or the stream afterwards.
  // The job's end comes back in an object: an async function returning a promise would wait for it.
  const populateAndMove = async (): Promise<{ ended: Promise<string> }> => {
    const job = populateMappedView(tensor.data, path);
    if (!job) throw new Error('no populate job');
    // Either way it ended, as a value: an unmapped range rejects (ENOMEM) instead of crashing.
    const ended = job.then((method) => `resolved ${method}`, (error: { code?: string }) => `rejected ${String(error.code)}`);
    const stream = new ReadableStream({ type: 'bytes', start(controller) { controller.enqueue(tensor.data); controller.close(); } });
    const { value } = await stream.getReader().read();
    out.detached = tensor.data.byteLength === 0;
    registry.register(value!.buffer, 'moved');
    return { ended };
  };
  const { ended } = await populateAndMove();
  const settle = async () => {
    for (let round = 0; round < 3; round++) {
      collect();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  await settle();
  out.pendingBytes = memoryMapPopulatePending();
  out.liveWhilePending = memoryMapStatus().liveMappings;
  // A writer lets the worker's open() return; the queued job runs next.
  closeSync(openSync(fifo, 'w'));
  await (await blocker).close();
  // Only now: closing the reader needs a worker thread too.
  await reader.close();
  out.ended = await ended;
  await settle();
  out.liveAfterSettled = memoryMapStatus().liveMappings;
} else if (mode === 'charge') {
  // V8's external-memory counter (the addon's stats().externalMemory) around COUNT mapped reads kept, then dropped and collected.
  const [path, name, count] = args as [string, string, string];
  const { loadedAddon } = await import('../../src/storage/memory-map.js');
  const counter = () => loadedAddon()?.stats().externalMemory ?? Number.NaN;
  const reader = await openTensorFile(path);
  collect();
  await new Promise((resolve) => setTimeout(resolve, 10));
  const before = counter();
  let kept: Uint8Array[] = [];
  for (let round = 0; round < Number(count); round++) kept.push((await reader.read(name, { populate: false })).data);
  out.mapped = kept.filter((view) => isMemoryMapped(view)).length;
  out.whileKept = counter() - before;
  kept = [];
  await reader.close();
  for (let round = 0; round < 3; round++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  out.afterDrop = counter() - before;
  out.live = memoryMapStatus().liveMappings;
} else if (mode === 'each-hashes') {
  const files: Record<string, Record<string, { mapped: string; copied: string; wasMapped: boolean }>> = {};
  for (const path of args) {
    await using reader = await openTensorFile(path);
    const tensors: Record<string, { mapped: string; copied: string; wasMapped: boolean }> = {};
    for await (const { name, tensor } of readEach(reader, { aheadBytes: 200_000 })) {
      tensors[name] = { mapped: createHash('sha256').update(tensor.data).digest('hex'), copied: '', wasMapped: isMemoryMapped(tensor.data) };
    }
    for await (const { name, tensor } of readEach(reader, { copy: true, aheadBytes: 200_000 })) tensors[name]!.copied = createHash('sha256').update(tensor.data).digest('hex');
    files[path] = tensors;
  }
  out.files = files;
} else if (mode === 'truncate-each') {
  const [path] = args as [string];
  const reader = await openTensorFile(path);
  const given: string[] = [];
  out.error = await errorCodeOf(async () => {
    for await (const { name, tensor } of readEach(reader, { aheadBytes: 64 * 2 ** 20 })) {
      if (given.length === 0) {
        out.mapped = isMemoryMapped(tensor.data);
        const offset = (reader.info(name).extras?.dataOffset as number | undefined) ?? 0;
        truncateSync(path, offset + Math.floor(tensor.data.byteLength / 2));
        // Populating the cut mapping again: the kernel answers EFAULT, tensio SOURCE_CHANGED. Unless
        // readEach's own fault-ahead touched the cut pages first: its SIGBUS put zeros there and
        // flagged the mapping, and populating zeros succeeds. Either way the cut is on record.
        out.populate = await errorCodeOf(async () => populateMappedView(tensor.data, path));
        out.faultedAfterPopulate = memoryMapFaulted(tensor.data);
      }
      given.push(name);
      byteSum(tensor.data);
    }
  });
  out.given = given;
  await reader.close();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
