/**
 * Waiting for piped output to drain before the process exits. `process.exit` does not
 * wait: once a pipe's 64 KiB buffer is full, Node queues the rest in memory, and
 * exiting then loses it (a long error on piped stderr was cut at 65,536 bytes).
 */

/** A writable stream as far as draining needs it. */
export interface DrainableStream {
  readonly writableLength: number;
  readonly destroyed?: boolean;
  write(chunk: string, callback: (error?: Error | null) => void): boolean;
}

/**
 * Resolves once everything written so far to each stream has been handed to the OS (or
 * the stream failed, e.g. EPIPE from a reader that went away).
 *
 * @example
 * ```ts
 * await cliDrainOutput([process.stdout, process.stderr]);
 * process.exit(code);
 * ```
 */
export async function cliDrainOutput(streams: readonly DrainableStream[]): Promise<void> {
  await Promise.all(streams.map((stream) => new Promise<void>((resolve) => {
    if (stream.destroyed) return resolve();
    // Writes complete in order, so the callback of an empty write runs after every earlier one.
    stream.write('', () => resolve());
  })));
}
