/**
 * The work budget of one pickle: everything that could touch shared structure more
 * than once (copying a list into a set, hashing a dict key, expanding metadata, building
 * names) spends from it, so a small file cannot buy unbounded time or memory. The same
 * budget checks an abort signal now and then, so a long parse still honours Ctrl-C.
 */
import { TensioError } from '../../../core/errors.js';
import { PICKLE_BASE_WORK, PICKLE_WORK_PER_BYTE } from '../../../core/limits.js';

/** Units spent between two looks at the abort signal. */
const SIGNAL_CHECK_UNITS = 1 << 16;

/** Options for {@link PickleWorkBudget}. */
export interface PickleWorkBudgetOptions {
  /** Total units allowed; default `PICKLE_BASE_WORK + PICKLE_WORK_PER_BYTE × pickleBytes`. */
  maxPickleWork?: number;
  /** Checked every 65,536 units; an aborted signal ends the work with `ABORTED`. */
  signal?: AbortSignal;
  /** Format name for errors. */
  format?: string;
}

/**
 * A counter of work with a cap in proportion to the pickle's size.
 *
 * @example
 * ```ts
 * const budget = new PickleWorkBudget(bytes.byteLength, { format: 'pytorch' });
 * budget.spend(list.length, 'set() of a list');
 * ```
 */
export class PickleWorkBudget {
  /** Units allowed in total. */
  readonly limit: number;
  /** Units spent so far. */
  spent = 0;
  private nextCheck = SIGNAL_CHECK_UNITS;
  private readonly format: string;
  private readonly signal: AbortSignal | undefined;

  constructor(readonly pickleBytes: number, options: PickleWorkBudgetOptions = {}) {
    this.limit = options.maxPickleWork ?? PICKLE_BASE_WORK + PICKLE_WORK_PER_BYTE * pickleBytes;
    this.format = options.format ?? 'pickle';
    this.signal = options.signal;
  }

  /** Spends `units`; throws `LIMIT_EXCEEDED` past the cap and `ABORTED` once the signal fired. */
  spend(units: number, what: string): void {
    this.spent += units;
    if (this.spent > this.limit) {
      throw new TensioError('LIMIT_EXCEEDED', `${this.format}: ${what} takes the work for a pickle of ${this.pickleBytes} bytes past ${this.limit} units (maxPickleWork); shared structure is being expanded over and over`, { format: this.format });
    }
    if (this.spent >= this.nextCheck) {
      this.nextCheck = this.spent + SIGNAL_CHECK_UNITS;
      this.throwIfAborted();
    }
  }

  /** Throws `ABORTED` when the signal fired. */
  throwIfAborted(): void {
    if (this.signal?.aborted) throw new TensioError('ABORTED', `${this.format}: aborted while reading the pickle`, { format: this.format, cause: this.signal.reason });
  }
}
