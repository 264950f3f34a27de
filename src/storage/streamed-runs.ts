/**
 * Streamed reads of long sequential runs, for remote sources. A tensor streamed chunk by
 * chunk says how far it will read (`ReadOptions.sequentialUntil`); instead of one ranged
 * request per chunk, ONE request fetches the whole run and its body is consumed chunk by
 * chunk. A pump pulls the body ahead of the consumer into a queue of at most
 * `bufferBytes`, so the transfer goes on while the consumer (a writer) works, and memory
 * stays bounded: when the queue is full the pump stops pulling and the socket is paused
 * (TCP backpressure), never the whole object in memory. A body cut short is asked for
 * again from the byte it stopped at, a bounded number of times in a row.
 *
 * What a request is (its headers, the checks of its answer: ETag pinning, range) belongs
 * to the source that passes `open`; this module only moves bytes.
 */
import { TensioError } from '../core/errors.js';

/**
 * Opens a body of the bytes `from..end-1`. It must check the answer (range, validators)
 * and throw a `TensioError` for a wrong one; any other error while iterating the body
 * counts as a dropped connection and is resumed.
 */
export type OpenRunBody = (from: number, end: number, signal: AbortSignal) => Promise<AsyncIterable<Uint8Array>>;

/** Options for {@link StreamedRuns}. */
export interface StreamedRunsOptions {
  /** Most bytes a run holds ahead of its consumer. */
  readonly bufferBytes: number;
  /** Re-requests in a row without progress before a run fails. */
  readonly retries: number;
  /** Runs open at once (a consumer that came back finds its run; older ones are closed). Default 2. */
  readonly maxRuns?: number;
  /** For messages. */
  readonly name: string;
  /** Called before each re-request after a dropped connection (counters). */
  readonly onRetry?: () => void;
}

/**
 * The runs of one source. {@link StreamedRuns.readInto} serves a read from the run that
 * stands at its offset, or starts one for `offset..until`.
 *
 * @example
 * ```ts
 * const runs = new StreamedRuns(openBody, { bufferBytes: 16 << 20, retries: 3, name: url });
 * if (!(await runs.readInto(chunk, offset, tensorEnd, signal))) await rangedRead(chunk, offset);
 * ```
 */
export class StreamedRuns {
  private runs: Run[] = [];

  constructor(private readonly open: OpenRunBody, private readonly options: StreamedRunsOptions) {}

  /**
   * Reads `target.byteLength` bytes at `offset` from a run ending at `until`. Resolves
   * false (nothing read) when the read does not fit in such a run: the caller reads it
   * another way.
   */
  async readInto(target: Uint8Array, offset: number, until: number, signal: AbortSignal | undefined): Promise<boolean> {
    let run = this.runs.find((candidate) => candidate.position === offset && !candidate.busy);
    if (run && offset + target.byteLength > run.end) {
      this.drop(run);
      run = undefined;
    }
    if (!run) {
      if (offset + target.byteLength > until) return false;
      run = new Run(this.open, offset, until, this.options);
      this.runs.push(run);
      // The oldest idle runs go; a run being read is never taken from its reader.
      for (const idle of this.runs.filter((candidate) => !candidate.busy && candidate !== run)) {
        if (this.runs.length <= (this.options.maxRuns ?? 2)) break;
        this.drop(idle);
      }
    }
    run.busy = true;
    try {
      await run.readInto(target, signal);
    } catch (error) {
      // A read that failed half-way leaves the run at an unknown position.
      this.drop(run);
      throw error;
    } finally {
      run.busy = false;
    }
    if (run.position === run.end) this.drop(run);
    return true;
  }

  /** True when an idle run's next byte is `offset` (its reader came back for more). */
  standsAt(offset: number): boolean {
    return this.runs.some((run) => run.position === offset && !run.busy);
  }

  /** Ends every run (their requests are aborted). */
  close(): void {
    for (const run of this.runs) run.cancel();
    this.runs = [];
  }

  private drop(run: Run): void {
    run.cancel();
    this.runs = this.runs.filter((other) => other !== run);
  }
}

/** One request's body being pumped into a bounded queue. */
class Run {
  /** The consumer's next byte. */
  position: number;
  /** The pump's next byte. */
  private pumped: number;
  busy = false;
  private readonly queue: Uint8Array[] = [];
  /** Bytes of `queue[0]` already consumed. */
  private headOffset = 0;
  private queued = 0;
  private failure: unknown;
  private readonly controller = new AbortController();
  private wake: (() => void) | undefined;

  constructor(private readonly open: OpenRunBody, from: number, readonly end: number, private readonly options: StreamedRunsOptions) {
    this.position = from;
    this.pumped = from;
    void this.pump().catch((error: unknown) => this.fail(error));
  }

  cancel(): void {
    this.controller.abort();
    this.notify();
  }

  async readInto(target: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    let filled = 0;
    while (filled < target.byteLength) {
      if (signal?.aborted) throw new TensioError('ABORTED', `read of ${this.options.name} was aborted`, { cause: signal.reason });
      const head = this.queue[0];
      if (!head) {
        if (this.failure !== undefined) throw this.failure;
        if (this.controller.signal.aborted) throw new TensioError('ABORTED', `the streamed read of ${this.options.name} was closed`);
        await this.changed(signal);
        continue;
      }
      const take = Math.min(head.byteLength - this.headOffset, target.byteLength - filled);
      target.set(head.subarray(this.headOffset, this.headOffset + take), filled);
      filled += take;
      this.headOffset += take;
      this.queued -= take;
      if (this.headOffset === head.byteLength) {
        this.queue.shift();
        this.headOffset = 0;
      }
    }
    this.position += target.byteLength;
    this.notify(); // room for the pump
  }

  private async pump(): Promise<void> {
    let failures = 0;
    while (this.pumped < this.end && !this.controller.signal.aborted) {
      // A run nobody reads does not re-request: it waits for room first.
      while (this.queued >= this.options.bufferBytes && !this.controller.signal.aborted) await this.changed(undefined);
      if (this.controller.signal.aborted) return;
      const body = await this.open(this.pumped, this.end, this.controller.signal);
      try {
        for await (const piece of body) {
          if (piece.byteLength > this.end - this.pumped) {
            throw new TensioError('SIZE_MISMATCH', `${this.options.name} sent more bytes than the range ${this.pumped}-${this.end - 1} asked for`, { path: this.options.name });
          }
          this.queue.push(piece);
          this.queued += piece.byteLength;
          this.pumped += piece.byteLength;
          failures = 0;
          this.notify();
          while (this.queued >= this.options.bufferBytes && !this.controller.signal.aborted) await this.changed(undefined);
          if (this.controller.signal.aborted) return;
        }
      } catch (error) {
        if (error instanceof TensioError || this.controller.signal.aborted) throw error;
        // A dropped connection: ask again from the byte it stopped at.
      } finally {
        (body as { destroy?: () => void }).destroy?.();
      }
      if (this.pumped < this.end) {
        failures += 1;
        if (failures > this.options.retries) {
          throw new TensioError('HTTP_ERROR', `${this.options.name}: the connection dropped ${failures} times in a row at byte ${this.pumped} of the run ending at ${this.end}; giving up`, { path: this.options.name });
        }
        this.options.onRetry?.();
        await new Promise((resolveWait) => setTimeout(resolveWait, 100 * 2 ** (failures - 1)));
      }
    }
  }

  private fail(error: unknown): void {
    if (this.controller.signal.aborted && !(error instanceof TensioError)) return;
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Resolves at the next change of state (bytes queued or consumed, failure, cancel), or rejects when `signal` aborts. */
  private changed(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolveChange, reject) => {
      const previous = this.wake;
      const onAbort = (): void => reject(new TensioError('ABORTED', `read of ${this.options.name} was aborted`, { cause: signal?.reason }));
      this.wake = () => {
        signal?.removeEventListener('abort', onAbort);
        previous?.();
        resolveChange();
      };
      if (this.failure !== undefined || this.controller.signal.aborted) this.notify();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
