/**
 * A pickle disassembler for reports: lists every global a pickle references without
 * building any value, the way scanners such as picklescan do. It never decides
 * whether to load a file (the allow-list machine does); it explains why one was refused.
 */
import { clipInput } from '../../../core/quote.js';
import { TensioError } from '../../../core/errors.js';
import { PICKLE_MAX_LONG_BYTES } from '../../../core/limits.js';
import { pickleCanonicalGlobal, pickleGlobalAllowed } from './allow-list.js';
import { PickleCursor } from './cursor.js';
import { PICKLE_OP as OP, pickleOpcodeName } from './opcodes.js';

/** One global a pickle names. */
export interface PickleGlobalReference {
  /** `module.name`, or `undefined` for a STACK_GLOBAL whose operands could not be resolved. */
  readonly global?: string;
  /** `GLOBAL`, `STACK_GLOBAL`, `INST`, `OBJ` or `EXT1/2/4`. */
  readonly opcode: string;
  /** Byte offset of the opcode (from the start of the scanned bytes). */
  readonly offset: number;
  /** True when tensio's allow-list accepts it. Unresolved references are never allowed. */
  readonly allowed: boolean;
}

/** What {@link pickleScanGlobals} found. */
export interface PickleScanReport {
  readonly globals: readonly PickleGlobalReference[];
  /** Pickles scanned (legacy checkpoints hold several back to back). */
  readonly pickles: number;
  /** Where and why scanning stopped early, if it did. */
  readonly error?: string;
}

/** Opcodes with no operand. */
const NO_OPERAND = new Set<number>([
  OP.MARK, OP.STOP, OP.POP, OP.POP_MARK, OP.DUP, OP.NONE, OP.BINPERSID, OP.REDUCE, OP.APPEND, OP.BUILD, OP.DICT, OP.EMPTY_DICT,
  OP.APPENDS, OP.LIST, OP.EMPTY_LIST, OP.OBJ, OP.SETITEM, OP.TUPLE, OP.EMPTY_TUPLE, OP.SETITEMS, OP.NEWOBJ, OP.TUPLE1, OP.TUPLE2,
  OP.TUPLE3, OP.NEWTRUE, OP.NEWFALSE, OP.EMPTY_SET, OP.ADDITEMS, OP.FROZENSET, OP.NEWOBJ_EX, OP.STACK_GLOBAL, OP.MEMOIZE,
  OP.NEXT_BUFFER, OP.READONLY_BUFFER,
]);
/** Opcodes whose operand is one newline-terminated line. */
const ONE_LINE = new Set<number>([OP.FLOAT, OP.INT, OP.LONG, OP.PERSID, OP.STRING, OP.UNICODE, OP.GET, OP.PUT]);
/** Fixed-size operands. */
const FIXED: ReadonlyMap<number, number> = new Map([
  [OP.PROTO, 1], [OP.BININT, 4], [OP.BININT1, 1], [OP.BININT2, 2], [OP.BINFLOAT, 8], [OP.BINGET, 1], [OP.LONG_BINGET, 4],
  [OP.BINPUT, 1], [OP.LONG_BINPUT, 4], [OP.EXT1, 1], [OP.EXT2, 2], [OP.EXT4, 4], [OP.FRAME, 8],
]);

/**
 * Lists the globals in one or more pickles back to back, resolving STACK_GLOBAL operands
 * through the memo; an unresolvable one is reported with `global: undefined`.
 *
 * @example
 * ```ts
 * const report = pickleScanGlobals(dataPkl);
 * for (const ref of report.globals) if (!ref.allowed) console.log('refused:', ref.global ?? '(unresolved)');
 * ```
 */
export function pickleScanGlobals(bytes: Uint8Array, options: { maxPickles?: number; format?: string } = {}): PickleScanReport {
  const globals: PickleGlobalReference[] = [];
  const cursor = new PickleCursor(bytes, 0, options.format ?? 'pickle', PICKLE_MAX_LONG_BYTES * 1024);
  const maxPickles = options.maxPickles ?? 16;
  const memo = new Map<number, string | undefined>();
  // The last values pushed, as far as a scan can know them: a string, or undefined for anything else.
  let recent: (string | undefined)[] = [];
  let pickles = 0;
  const pushed = (value: string | undefined): void => {
    recent.push(value);
    if (recent.length > 2) recent = recent.slice(-2);
  };
  const record = (global: string | undefined, opcode: number, offset: number): void => {
    let name = global;
    let allowed = false;
    if (global !== undefined) {
      const [module, ...rest] = global.split('\n');
      const [canonicalModule, canonicalName] = pickleCanonicalGlobal(module!, rest.join('.'));
      name = `${canonicalModule}.${canonicalName}`;
      allowed = pickleGlobalAllowed(canonicalModule, canonicalName);
    }
    globals.push({ ...(name !== undefined ? { global: name } : {}), opcode: pickleOpcodeName(opcode), offset, allowed });
  };
  try {
    while (cursor.position < bytes.byteLength && pickles < maxPickles) {
      const offset = cursor.position;
      const op = cursor.u8();
      if (op === OP.STOP) {
        pickles++;
        memo.clear();
        recent = [];
        // Another pickle follows only if it starts with PROTO (legacy checkpoints); raw data otherwise.
        if (bytes[cursor.position] !== OP.PROTO) break;
        continue;
      }
      if (op === OP.GLOBAL || op === OP.INST) {
        record(`${cursor.textLine()}\n${cursor.textLine()}`, op, offset);
        pushed(undefined);
      } else if (op === OP.STACK_GLOBAL) {
        const [module, name] = recent.length === 2 ? recent : [undefined, undefined];
        record(module !== undefined && name !== undefined ? `${module}\n${name}` : undefined, op, offset);
        pushed(undefined);
      } else if (op === OP.OBJ || op === OP.EXT1 || op === OP.EXT2 || op === OP.EXT4) {
        if (FIXED.has(op)) cursor.bytes(FIXED.get(op)!);
        record(undefined, op, offset);
      } else if (op === OP.SHORT_BINUNICODE) pushed(cursor.utf8(cursor.u8()));
      else if (op === OP.BINUNICODE) pushed(cursor.utf8(cursor.u32()));
      else if (op === OP.BINUNICODE8) pushed(cursor.utf8(cursor.u64()));
      else if (op === OP.SHORT_BINSTRING) pushed(asString(cursor.py2String(cursor.bytes(cursor.u8()))));
      else if (op === OP.BINSTRING) pushed(asString(cursor.py2String(cursor.bytes(cursor.i32()))));
      else if (op === OP.UNICODE) pushed(cursor.rawUnicodeLine());
      else if (op === OP.STRING) pushed(asString(cursor.py2String(cursor.quotedLine())));
      else if (op === OP.BINPUT) memo.set(cursor.u8(), recent[recent.length - 1]);
      else if (op === OP.LONG_BINPUT) memo.set(cursor.u32(), recent[recent.length - 1]);
      else if (op === OP.PUT) memo.set(cursor.decimalLine(), recent[recent.length - 1]);
      else if (op === OP.MEMOIZE) memo.set(memo.size, recent[recent.length - 1]);
      else if (op === OP.BINGET) pushed(memo.get(cursor.u8()));
      else if (op === OP.LONG_BINGET) pushed(memo.get(cursor.u32()));
      else if (op === OP.GET) pushed(memo.get(cursor.decimalLine()));
      else if (op === OP.FRAME) cursor.u64();
      else if (op === OP.LONG1) cursor.bytes(cursor.u8()), pushed(undefined);
      else if (op === OP.LONG4) cursor.bytes(cursor.i32()), pushed(undefined);
      else if (op === OP.BINBYTES) cursor.bytes(cursor.u32()), pushed(undefined);
      else if (op === OP.SHORT_BINBYTES) cursor.bytes(cursor.u8()), pushed(undefined);
      else if (op === OP.BINBYTES8 || op === OP.BYTEARRAY8) cursor.bytes(cursor.u64()), pushed(undefined);
      else if (FIXED.has(op)) cursor.bytes(FIXED.get(op)!), pushed(undefined);
      else if (ONE_LINE.has(op)) cursor.lineBytes(), pushed(undefined);
      else if (NO_OPERAND.has(op)) {
        if (op !== OP.MARK && op !== OP.POP && op !== OP.POP_MARK) pushed(undefined);
      } else {
        throw new TensioError('INVALID_PICKLE', `unknown opcode 0x${op.toString(16)} at byte ${offset}`);
      }
    }
  } catch (error) {
    return { globals, pickles, error: (error as Error).message };
  }
  return { globals, pickles };
}

function asString(value: string | Uint8Array): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Globals named in one summary line (per kind); the rest are counted. */
const DESCRIBED_GLOBALS = 12;

/**
 * A one-line summary of the globals a pickle references, for error messages:
 * refused ones first, e.g. `refused: posix.system; allowed: collections.OrderedDict`.
 *
 * @example
 * ```ts
 * pickleDescribeGlobals(pickleScanGlobals(bytes));
 * ```
 */
export function pickleDescribeGlobals(report: PickleScanReport): string {
  const unique = (refs: PickleGlobalReference[]) => [...new Set(refs.map((ref) => ref.global ?? `(unresolved ${ref.opcode} at byte ${ref.offset})`))];
  const refused = unique(report.globals.filter((ref) => !ref.allowed));
  const allowed = unique(report.globals.filter((ref) => ref.allowed));
  // Bounded: a hostile pickle may name thousands of globals, each as long as it likes.
  const list = (names: string[]) => names.length === 0 ? 'none'
    : names.slice(0, DESCRIBED_GLOBALS).map((name) => clipInput(name, 120)).join(', ') + (names.length > DESCRIBED_GLOBALS ? ` and ${names.length - DESCRIBED_GLOBALS} more` : '');
  return `refused: ${list(refused)}; allowed: ${list(allowed)}`;
}
