/**
 * A pickle virtual machine for protocols 0–5 that builds values and never executes
 * anything: GLOBAL, REDUCE, BUILD, NEWOBJ and persistent ids are handed to
 * {@link PickleHooks}, which interpret a small allow-list symbolically.
 */
import { TensioError } from '../../../core/errors.js';
import { clipInput } from '../../../core/quote.js';
import {
  PICKLE_MAX_CONTAINER_LENGTH, PICKLE_MAX_LONG_BYTES, PICKLE_MAX_MEMO_ENTRIES, PICKLE_MAX_NESTING_DEPTH, PICKLE_MAX_STACK_DEPTH,
} from '../../../core/limits.js';
import { PICKLE_HIGHEST_PROTOCOL, PICKLE_OP as OP, pickleOpcodeName } from './opcodes.js';
import { PickleCursor } from './cursor.js';
import { PickleWorkBudget } from './budget.js';
import { PickleKeyTable, PickleUnhashableError } from './key-table.js';
import { EMPTY_PICKLE_TUPLE, PickleDict, PickleSet, PickleTuple, pickleTypeName, type PickleValue } from './values.js';

/** What hooks get besides their arguments: the run's work budget and dict-key table. */
export interface PickleRunContext {
  /** Spend from it for every item a hook copies or walks (`set(list)`, `OrderedDict(pairs)`). */
  readonly budget: PickleWorkBudget;
  /** Give it to every dict a hook creates, so keys shared between dicts are hashed once. */
  readonly keys: PickleKeyTable;
}

/** Where the machine asks before anything could have an effect. Each hook throws to refuse. */
export interface PickleHooks {
  /** Resolves GLOBAL / STACK_GLOBAL; throws `UNSAFE_PICKLE` for anything not allow-listed. */
  global(module: string, name: string, offset: number): PickleValue;
  /** REDUCE (`callable(*args)`) and NEWOBJ (`cls.__new__(cls, *args)`), interpreted symbolically. */
  call(callable: PickleValue, args: PickleTuple, opcode: 'REDUCE' | 'NEWOBJ', offset: number, context: PickleRunContext): PickleValue;
  /** BUILD (`target.__setstate__(state)`); returns the value left on the stack. */
  build(target: PickleValue, state: PickleValue, offset: number): PickleValue;
  /** PERSID / BINPERSID: turns a persistent id into a value (torch: a storage). */
  persistentLoad(id: PickleValue, offset: number): PickleValue;
}

/** Caps for one pickle run; each defaults to the named limit in `core/limits.ts`. */
export interface PickleLimits {
  maxMemoEntries?: number;
  maxStackDepth?: number;
  maxContainerLength?: number;
  maxNestingDepth?: number;
  maxLongBytes?: number;
  /** Total work units (see `PICKLE_WORK_PER_BYTE`); default in proportion to the pickle's size. */
  maxPickleWork?: number;
}

/** Options for {@link pickleRun}. */
export interface PickleRunOptions extends PickleLimits {
  hooks: PickleHooks;
  /** Byte where the pickle starts (several pickles may follow each other). Default 0. */
  start?: number;
  /** Format name for errors. Default `'pickle'`. */
  format?: string;
  /** Checked as the run goes; an aborted signal ends it with `ABORTED`. */
  signal?: AbortSignal;
  /** A budget to share with later steps (e.g. naming the tensors); by default one sized for `bytes`. */
  budget?: PickleWorkBudget;
}

/** What one pickle produced. */
export interface PickleRunResult {
  value: PickleValue;
  /** Byte after STOP: where a following pickle would start. */
  end: number;
  /** PROTO argument, 0 when the pickle has none (protocol 0/1). */
  protocol: number;
}

/**
 * Runs one pickle from `bytes` up to its STOP and returns the value it built.
 *
 * @example
 * ```ts
 * const { value } = pickleRun(bytes, { hooks: pytorchPickleHooks(storages) });
 * ```
 */
export function pickleRun(bytes: Uint8Array, options: PickleRunOptions): PickleRunResult {
  const machine = pickleMachine(bytes, options);
  for (;;) {
    const result = machine(Number.POSITIVE_INFINITY);
    if (result) return result;
  }
}

/** Opcodes run between two yields to the event loop in {@link pickleRunAsync}. */
const OPCODES_PER_SLICE = 1 << 18;

/**
 * {@link pickleRun} in slices: it yields to the event loop every 262,144 opcodes and
 * stops with `ABORTED` once `options.signal` fires, so Ctrl-C (SIGINT) and SIGTERM are
 * honoured during a long parse.
 *
 * @example
 * ```ts
 * const { value } = await pickleRunAsync(bytes, { hooks, signal });
 * ```
 */
export async function pickleRunAsync(bytes: Uint8Array, options: PickleRunOptions): Promise<PickleRunResult> {
  const machine = pickleMachine(bytes, options);
  const format = options.format ?? 'pickle';
  for (;;) {
    if (options.signal?.aborted) throw new TensioError('ABORTED', `${format}: aborted while reading the pickle`, { format, cause: options.signal.reason });
    const result = machine(OPCODES_PER_SLICE);
    if (result) return result;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** The machine as a function that runs up to `maxOpcodes` and returns the result once STOP is reached. */
function pickleMachine(bytes: Uint8Array, options: PickleRunOptions): (maxOpcodes: number) => PickleRunResult | undefined {
  const format = options.format ?? 'pickle';
  const maxMemo = options.maxMemoEntries ?? PICKLE_MAX_MEMO_ENTRIES;
  const maxStack = options.maxStackDepth ?? PICKLE_MAX_STACK_DEPTH;
  const maxLength = options.maxContainerLength ?? PICKLE_MAX_CONTAINER_LENGTH;
  const maxNesting = options.maxNestingDepth ?? PICKLE_MAX_NESTING_DEPTH;
  const hooks = options.hooks;
  const start = options.start ?? 0;
  const budget = options.budget ?? new PickleWorkBudget(bytes.byteLength - start, {
    format, ...(options.maxPickleWork !== undefined ? { maxPickleWork: options.maxPickleWork } : {}), ...(options.signal ? { signal: options.signal } : {}),
  });
  const context: PickleRunContext = { budget, keys: new PickleKeyTable(budget) };
  const input = new PickleCursor(bytes, start, format, options.maxLongBytes ?? PICKLE_MAX_LONG_BYTES);
  const memo = new Map<number, PickleValue>();
  const metastack: PickleValue[][] = [];
  let stack: PickleValue[] = [];
  let depth = 0;
  let protocol = 0;
  let opOffset = 0;

  const fail = (code: 'INVALID_PICKLE' | 'UNSAFE_PICKLE' | 'LIMIT_EXCEEDED' | 'UNSUPPORTED_VERSION', message: string): never => {
    throw new TensioError(code, `${format}: ${message} (opcode ${pickleOpcodeName(bytes[opOffset] ?? 0)} at byte ${opOffset})`, { format, offset: opOffset });
  };
  const push = (value: PickleValue): void => {
    if (depth >= maxStack) fail('LIMIT_EXCEEDED', `pickle stack deeper than ${maxStack} values (maxStackDepth)`);
    stack.push(value);
    depth++;
  };
  const pop = (): PickleValue => {
    if (stack.length === 0) fail('INVALID_PICKLE', 'pop from an empty stack');
    depth--;
    return stack.pop()!;
  };
  const top = (): PickleValue => {
    if (stack.length === 0) fail('INVALID_PICKLE', 'empty stack');
    return stack[stack.length - 1]!;
  };
  const popMark = (): PickleValue[] => {
    if (metastack.length === 0) fail('INVALID_PICKLE', 'MARK expected but none is open');
    const items = stack;
    depth -= items.length;
    stack = metastack.pop()!;
    return items;
  };
  const checkLength = (length: number, what: string): void => {
    if (length > maxLength) fail('LIMIT_EXCEEDED', `${what} of ${length} items exceeds ${maxLength} (maxContainerLength)`);
  };
  const put = (index: number): void => {
    if (!memo.has(index) && memo.size >= maxMemo) fail('LIMIT_EXCEEDED', `more than ${maxMemo} memo entries (maxMemoEntries)`);
    memo.set(index, top());
  };
  const get = (index: number): void => {
    if (!memo.has(index)) fail('INVALID_PICKLE', `memo entry ${index} was never stored`);
    push(memo.get(index)!);
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!(target instanceof PickleDict)) fail('INVALID_PICKLE', `SETITEM on ${pickleTypeName(target)}, only dicts take items`);
    if (items.length % 2 !== 0) fail('INVALID_PICKLE', `SETITEMS with an odd number (${items.length}) of keys and values`);
    const dict = target as PickleDict;
    checkLength(dict.size + items.length / 2, 'dict');
    try {
      for (let i = 0; i < items.length; i += 2) dict.set(items[i]!, items[i + 1]!);
    } catch (cause) {
      if (!(cause instanceof PickleUnhashableError)) throw cause;
      fail('INVALID_PICKLE', cause.message);
    }
  };
  const appendItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!Array.isArray(target)) fail('INVALID_PICKLE', `APPEND on ${pickleTypeName(target)}, only lists take appends`);
    const list = target as PickleValue[];
    checkLength(list.length + items.length, 'list');
    for (const item of items) list.push(item);
  };
  const addToSet = (target: PickleSet, items: PickleValue[]): void => {
    checkLength(target.items.length + items.length, 'set');
    // One by one: spreading ~130k items into push() overflows the call stack.
    for (const item of items) target.items.push(item);
  };

  return (maxOpcodes) => {
    for (let ran = 0; ran < maxOpcodes; ran++) {
      opOffset = input.position;
      const op = input.u8();
      switch (op) {
        case OP.PROTO: {
          protocol = input.u8();
          if (protocol > PICKLE_HIGHEST_PROTOCOL) fail('UNSUPPORTED_VERSION', `pickle protocol ${protocol} is newer than ${PICKLE_HIGHEST_PROTOCOL}`);
          break;
        }
        case OP.FRAME: input.skipFrame(); break;
        case OP.STOP: return { value: pop(), end: input.position, protocol };
        case OP.MARK: {
          if (metastack.length >= maxNesting) fail('LIMIT_EXCEEDED', `MARKs nested deeper than ${maxNesting} (maxNestingDepth)`);
          metastack.push(stack);
          stack = [];
          break;
        }
        case OP.POP: if (stack.length > 0) pop(); else popMark(); break;
        case OP.POP_MARK: popMark(); break;
        case OP.DUP: push(top()); break;
        case OP.PUT: put(input.decimalLine()); break;
        case OP.BINPUT: put(input.u8()); break;
        case OP.LONG_BINPUT: put(input.u32()); break;
        case OP.MEMOIZE: put(memo.size); break;
        case OP.GET: get(input.decimalLine()); break;
        case OP.BINGET: get(input.u8()); break;
        case OP.LONG_BINGET: get(input.u32()); break;
        case OP.NONE: push(null); break;
        case OP.NEWTRUE: push(true); break;
        case OP.NEWFALSE: push(false); break;
        case OP.INT: push(input.intLine()); break;
        case OP.LONG: push(input.longLine()); break;
        case OP.FLOAT: push(input.floatLine()); break;
        case OP.BININT: push(input.i32()); break;
        case OP.BININT1: push(input.u8()); break;
        case OP.BININT2: push(input.u16()); break;
        case OP.LONG1: push(input.long(input.u8())); break;
        case OP.LONG4: push(input.long(input.i32())); break;
        case OP.BINFLOAT: push(input.f64be()); break;
        case OP.STRING: push(input.py2String(input.quotedLine())); break;
        case OP.BINSTRING: push(input.py2String(input.bytes(input.i32()))); break;
        case OP.SHORT_BINSTRING: push(input.py2String(input.bytes(input.u8()))); break;
        case OP.UNICODE: push(input.rawUnicodeLine()); break;
        case OP.BINUNICODE: push(input.utf8(input.u32())); break;
        case OP.SHORT_BINUNICODE: push(input.utf8(input.u8())); break;
        case OP.BINUNICODE8: push(input.utf8(input.u64())); break;
        case OP.BINBYTES: push(input.bytes(input.u32()).slice()); break;
        case OP.SHORT_BINBYTES: push(input.bytes(input.u8()).slice()); break;
        case OP.BINBYTES8: case OP.BYTEARRAY8: push(input.bytes(input.u64()).slice()); break;
        case OP.EMPTY_TUPLE: push(EMPTY_PICKLE_TUPLE); break;
        case OP.TUPLE1: push(new PickleTuple([pop()])); break;
        case OP.TUPLE2: { const b = pop(); const a = pop(); push(new PickleTuple([a, b])); break; }
        case OP.TUPLE3: { const c = pop(); const b = pop(); const a = pop(); push(new PickleTuple([a, b, c])); break; }
        case OP.TUPLE: push(new PickleTuple(popMark())); break;
        case OP.EMPTY_LIST: push([]); break;
        case OP.LIST: push(popMark()); break;
        case OP.APPEND: { const item = pop(); appendItems(top(), [item]); break; }
        case OP.APPENDS: { const items = popMark(); appendItems(top(), items); break; }
        case OP.EMPTY_DICT: push(new PickleDict('dict', context.keys)); break;
        case OP.DICT: { const items = popMark(); const dict = new PickleDict('dict', context.keys); push(dict); setItems(dict, items); break; }
        case OP.SETITEM: { const value = pop(); const key = pop(); setItems(top(), [key, value]); break; }
        case OP.SETITEMS: { const items = popMark(); setItems(top(), items); break; }
        case OP.EMPTY_SET: push(new PickleSet(false)); break;
        case OP.FROZENSET: { const items = popMark(); const set = new PickleSet(true); addToSet(set, items); push(set); break; }
        case OP.ADDITEMS: {
          const items = popMark();
          const target = top();
          if (!(target instanceof PickleSet) || target.frozen) fail('INVALID_PICKLE', `ADDITEMS on ${pickleTypeName(target)}, only sets take items`);
          addToSet(target as PickleSet, items);
          break;
        }
        case OP.GLOBAL: {
          const module = input.textLine();
          const name = input.textLine();
          push(hooks.global(module, name, opOffset));
          break;
        }
        case OP.STACK_GLOBAL: {
          const name = pop();
          const module = pop();
          if (typeof module !== 'string' || typeof name !== 'string') {
            fail('INVALID_PICKLE', `STACK_GLOBAL needs two strings, got ${pickleTypeName(module)} and ${pickleTypeName(name)}`);
          }
          push(hooks.global(module as string, name as string, opOffset));
          break;
        }
        // REDUCE calls a callable, NEWOBJ a class's __new__: both pop a tuple of arguments, then what takes them.
        case OP.REDUCE:
        case OP.NEWOBJ: {
          const opcode = op === OP.REDUCE ? 'REDUCE' : 'NEWOBJ';
          const args = pop();
          const callable = pop();
          if (!(args instanceof PickleTuple)) fail('INVALID_PICKLE', `${opcode} arguments must be a tuple, got ${pickleTypeName(args)}`);
          push(hooks.call(callable, args as PickleTuple, opcode, opOffset, context));
          break;
        }
        case OP.NEWOBJ_EX: {
          const kwargs = pop();
          const args = pop();
          const cls = pop();
          if (!(args instanceof PickleTuple)) fail('INVALID_PICKLE', `NEWOBJ_EX arguments must be a tuple, got ${pickleTypeName(args)}`);
          if (!(kwargs instanceof PickleDict) || kwargs.size > 0) fail('INVALID_PICKLE', 'NEWOBJ_EX with keyword arguments is not supported');
          push(hooks.call(cls, args as PickleTuple, 'NEWOBJ', opOffset, context));
          break;
        }
        case OP.BUILD: {
          const state = pop();
          const target = pop();
          push(hooks.build(target, state, opOffset));
          break;
        }
        case OP.PERSID: push(hooks.persistentLoad(input.asciiLine(), opOffset)); break;
        case OP.BINPERSID: push(hooks.persistentLoad(pop(), opOffset)); break;
        case OP.INST: {
          const module = input.textLine();
          const name = input.textLine();
          fail('UNSAFE_PICKLE', `INST would instantiate ${clipInput(`${module}.${name}`)}; refused`);
          break;
        }
        case OP.OBJ: fail('UNSAFE_PICKLE', 'OBJ would instantiate an arbitrary class; refused'); break;
        case OP.EXT1: case OP.EXT2: case OP.EXT4: fail('UNSAFE_PICKLE', 'extension registry codes name arbitrary globals; refused'); break;
        case OP.NEXT_BUFFER: case OP.READONLY_BUFFER: fail('INVALID_PICKLE', 'out-of-band buffers (protocol 5) are not supported'); break;
        default: fail('INVALID_PICKLE', `unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
    return undefined;
  };
}
