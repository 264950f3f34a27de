/**
 * Puts the machine's free memory in the same state before every contender of a group
 * whose contenders allocate what they read (fresh buffers, copies, the Python peers'
 * arrays), so that a figure does not depend on which contender happens to run first.
 *
 * Why: this VM has virtio-balloon free-page reporting (../shared/reference/perf-anchors.md).
 * Memory freed for about two seconds is handed back to the host in blocks of 2 MiB and
 * more, and touching it again costs a host fault per 4 KiB page (~7 µs: 1 GiB of fresh
 * buffers then takes ~1.8 s of system time instead of ~0.1 s). Memory freed moments ago
 * is still backed and costs only the guest's own faults. In a fixed contender order, the
 * first contender that allocates after one that does not (`read copy` right after
 * `read mapped` in the mmap group) pays the host faults every round, and the next one
 * (`read unmapped`, which gets the buffers `read copy` just freed) never does: session 28
 * measured the same code path at 0.60 and 5.78 GB/s that way (issue 15).
 *
 * {@link warmFreeMemory} allocates `bytes` of anonymous memory, touches every 4 KiB page
 * and frees it, untimed, right before a contender: whatever the contender (or a peer
 * process; the free lists are the machine's) allocates next comes out of memory the host
 * backs. Every contender gets it, tensio's and the peers' alike, so no side is favoured;
 * what it removes from the figures is the host's cost of giving memory back, which a
 * machine without free-page reporting does not have (the "raw fresh" rows then measure
 * the guest's first-touch cost alone). A one-off load in a cold process on this VM still
 * pays it: see bench/README.md for the cold figures.
 */
import { loadedAddon } from '../../src/storage/memory-map.js';
import { collectGarbage } from './timing.js';

/** What one warm-up did: how long it took (untimed by the contenders) and with what memory. */
export interface WarmUp {
  readonly milliseconds: number;
  readonly hugePages: boolean;
}

/**
 * Allocates `bytes` (rounded up to 2 MiB), writes one byte in every 4 KiB page and drops
 * it. With the native addon the memory is a huge-page buffer (a fault per 2 MiB, so a
 * warm-up of 1 GiB over memory still backed takes ~0.1 s); without it, a Node buffer.
 * The caller collects garbage afterwards so the buffer is unmapped before the contender
 * runs (the mmap group's settle() does, then turns the event loop for the finalizers).
 *
 * @example
 * ```ts
 * warmFreeMemory(file.dataBytes + 64 * 2 ** 20);
 * collectGarbage();
 * ```
 */
export function warmFreeMemory(bytes: number): WarmUp {
  const length = Math.ceil(bytes / (2 * 1024 * 1024)) * 2 * 1024 * 1024;
  const start = process.hrtime.bigint();
  const allocate = loadedAddon()?.allocate;
  let buffer: Uint8Array | undefined;
  let hugePages = false;
  if (allocate) {
    try {
      buffer = new Uint8Array(allocate(length));
      hugePages = true;
    } catch {
      buffer = undefined;
    }
  }
  buffer ??= Buffer.allocUnsafeSlow(length);
  for (let at = 0; at < length; at += 4096) buffer[at] = 1;
  return { milliseconds: Number(process.hrtime.bigint() - start) / 1e6, hugePages };
}

/**
 * The environment variable that turns the warm-up before each contender off
 * (`TENSIO_BENCH_NO_WARM=1`): the figures then depend on the contender order (issue 15).
 */
export const NO_WARM_ENV = 'TENSIO_BENCH_NO_WARM';

/** Whether `TENSIO_BENCH_NO_WARM` asks for no warm-up (set, and neither empty nor `0`). */
export function warmUpDisabled(): boolean {
  const value = process.env[NO_WARM_ENV];
  return value !== undefined && value !== '' && value !== '0';
}

/**
 * Warms the free memory before each contender of a group (see the module comment):
 * `bytes` of it, or nothing when `TENSIO_BENCH_NO_WARM` is set. Each warm-up is followed
 * by a collection and two turns of the event loop, so the huge-page buffer is unmapped
 * (its finalizer runs from the loop) before the contender starts. The durations are kept
 * for the group's log line ({@link FreeMemoryWarmer.describe}).
 *
 * @example
 * ```ts
 * const warmer = new FreeMemoryWarmer(3 * tableBytes + 64 * 2 ** 20);
 * await runRounds([{ name: 'tensio', before: () => warmer.warm(), run }], 6);
 * context.log(warmer.describe('parquet read snappy'));
 * ```
 */
export class FreeMemoryWarmer {
  /** Bytes warmed before each contender; 0 when warming is off. */
  readonly bytes: number;
  private readonly milliseconds: number[] = [];

  constructor(bytes: number) {
    this.bytes = warmUpDisabled() ? 0 : bytes;
  }

  /** Warms (untimed: call it from a contender's `before`), then lets the buffer go. */
  async warm(): Promise<void> {
    if (this.bytes === 0) return;
    this.milliseconds.push(warmFreeMemory(this.bytes).milliseconds);
    collectGarbage();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** One log line: what was warmed before how many runs and how long it took; the count restarts. */
  describe(label: string): string {
    const sorted = this.milliseconds.splice(0).sort((a, b) => a - b);
    if (this.bytes === 0) return `${label}: no warm-up before the contenders (${NO_WARM_ENV} set): figures depend on the contender order`;
    if (sorted.length === 0) return `${label}: no warm-up ran`;
    return `${label}: free memory warmed (${(this.bytes / 2 ** 20).toFixed(0)} MiB, untimed) before each of ${sorted.length} runs: median ${sorted[sorted.length >> 1]!.toFixed(0)} ms, max ${sorted[sorted.length - 1]!.toFixed(0)} ms (slow ones paid the host's faults the contender would have)`;
  }
}
