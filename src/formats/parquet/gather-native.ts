/**
 * The dictionary gather of Parquet reads on libuv's threads: pieces of RLE_DICTIONARY
 * pages collected on the JavaScript thread (each a {@link DictionaryIndexStream} moved past
 * its indices by reading only run headers) and gathered by tensio's addon
 * (`native/src/tensio_gather.c`) in one job, while the JavaScript thread goes on to the
 * next band or column. The addon checks every index and run as `hybrid-streams.ts` does
 * and rejects a damaged stream naming the piece and the value; the job then rejects with
 * the refusal the piece's `refuse` makes of it (`page-placer.ts`: column, page, row), as
 * the JavaScript gather's damage is refused.
 *
 * Without the addon (`TENSIO_NO_MMAP=1`, no compiler at install, the browser bundle), or
 * with `TENSIO_PARQUET_GATHER=js`, there is no native gather and the pages are gathered
 * on the JavaScript thread ({@link DictionaryIndexStream.gather}), the oracle of the tests.
 */
import type { DictionaryIndexStream, DictionaryStreamPlace } from './hybrid-streams.js';
import { addonParquetGatherBand, addonParquetGatherBandPlain } from '../../storage/native-gather.js';

/** Whether `TENSIO_PARQUET_GATHER=js` asks for the JavaScript gather (read at each call, so a test can switch). */
function forcedJs(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.TENSIO_PARQUET_GATHER === 'js';
}

/** `tensio_gather.c`'s run kind of a piece of PLAIN values (`PLAIN_PIECE`). */
const PLAIN_PIECE = 2;

/** Dictionary pieces (and PLAIN ones) collected for one native job ({@link parquetNativeGather}). */
export interface ParquetGatherJob {
  /**
   * Takes the next `count` indices of `stream` (moving it past them): their entries go to
   * 32-bit word `first` of the job's output, each next one `stride` words on. False when
   * the stream's run headers stop first (its `damage` then says why, when it is damage;
   * the stream is not to be used again). `refuse` makes the error {@link run} rejects
   * with when the gather finds the piece damaged at its value `value` (from the piece's first).
   */
  add(stream: DictionaryIndexStream, count: number, first: number, stride: number, refuse?: (value: number, reason: string) => Error): boolean;
  /**
   * Takes `values` (PLAIN values of `words` 32-bit words each, any alignment) to copy in
   * order: the first to word `first` of the job's output, each next one `stride` words on.
   * Why: a stacked read of a page without dictionary (pyarrow's fallback to PLAIN) was
   * written row by row on the JavaScript thread, which also took the tensor's first-touch
   * faults; in the job it is done on the worker with the band's dictionary pieces.
   */
  addValues?(values: Uint8Array, words: number, first: number, stride: number): void;
  /** Pieces added so far. */
  readonly pieces: number;
  /**
   * Gathers every piece into `out` (the buffer their words count from) on a libuv
   * worker; rejects for a damaged stream (with its piece's refusal, when it was given
   * one) or a piece outside `out`. None of the pieces' buffers nor `out` may be changed or
   * reused until it settles.
   */
  run(out: Uint8Array): Promise<void>;
}

/**
 * A maker of native gather jobs, or undefined when the addon has none here or
 * `TENSIO_PARQUET_GATHER=js` is set.
 *
 * @example
 * ```ts
 * const job = parquetNativeGather()?.();
 * if (job && job.add(stream, rows, column, rowWords)) await job.run(tensorRows);
 * ```
 */
export function parquetNativeGather(): (() => ParquetGatherJob) | undefined {
  // An addon built before PLAIN pieces gathers dictionary pieces only: the job then has no addValues.
  const plain = forcedJs() ? undefined : addonParquetGatherBandPlain();
  const gather = plain ?? (forcedJs() ? undefined : addonParquetGatherBand());
  if (!gather) return undefined;
  return () => {
    const sections: Uint8Array[] = [];
    const dictionaries: Uint8Array[] = [];
    const params: number[] = [];
    const refusals: (((value: number, reason: string) => Error) | undefined)[] = [];
    // Where each stream was when its first piece joined this job, and the values its pieces took since: what the job
    // has not checked yet (skip reads run headers only), from which damage found at a header is looked for first.
    const unchecked = new Map<DictionaryIndexStream, { place: DictionaryStreamPlace; position: number; values: number }>();
    const job: ParquetGatherJob = {
      add(stream, count, first, stride, refuse) {
        const place = stream.place();
        const { at, left, packed, runAt, bit, index } = place;
        let since = unchecked.get(stream);
        if (!since) unchecked.set(stream, since = { place, position: stream.position, values: 0 });
        if (!stream.skip(count)) {
          // Damage at a run header: an index of a bit-packed run before it may be damaged first, in this piece or in
          // an earlier piece of the same stream in this job, so those values are gathered in JavaScript from where the
          // job took the stream to name the first damage, as the JavaScript gather does.
          if (stream.damage) {
            const values = since.values + count;
            const probe = stream.resumed(since.place, since.position);
            if (!probe.gather(values, new Uint32Array(values * stream.words), 0) && probe.damage) stream.damage = probe.damage;
          }
          return false;
        }
        since.values += count;
        sections.push(stream.section);
        dictionaries.push(stream.dictionaryBytes);
        params.push(stream.entries, stream.words, count, first, stride, at, left, packed ? 1 : 0, runAt, bit, index);
        refusals.push(refuse);
        return true;
      },
      get pieces() {
        return sections.length;
      },
      async run(out) {
        if (sections.length === 0) return;
        const numbers = new Float64Array(params.length);
        numbers.set(params);
        try {
          await gather(sections, dictionaries, numbers, out);
        } catch (error) {
          // The addon's damage: "piece P, value V: reason" (tensio_gather.c).
          const found = (error as { code?: string }).code === 'ECORRUPT' ? /^piece (\d+), value (\d+): (.*)$/s.exec((error as Error).message) : null;
          const refuse = found ? refusals[Number(found[1])] : undefined;
          throw refuse ? refuse(Number(found![2]), found![3]!) : error;
        }
      },
    };
    if (plain) {
      job.addValues = (values, words, first, stride) => {
        const count = Math.floor(values.byteLength / (4 * words));
        sections.push(values);
        dictionaries.push(values);
        // tensio_gather.c's PLAIN piece: packed = 2, the values as its dictionary, copied from value 0.
        params.push(count, words, count, first, stride, 0, 0, PLAIN_PIECE, 0, 0, 0);
        refusals.push(undefined);
      };
    }
    return job;
  };
}
