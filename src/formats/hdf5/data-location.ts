/**
 * Where an HDF5 dataset's raw bytes sit in its file, read from the file format itself
 * (the HDF5 file format specification, version 3): the superblock, the dataset's object
 * header (versions 1 and 2, continuation blocks included), its data layout message
 * (versions 1-4) and the chunk index for the index types libhdf5 writes by default
 * (version-1 B-tree: h5py's default; fixed array: tensio's writer and libver 'latest';
 * single chunk; implicit), with the filter pipeline and fill value messages of a chunked
 * dataset (`dataset-messages.ts`). With these, a little-endian dataset is read with
 * positioned reads straight into the result instead of through libhdf5's WebAssembly
 * heap (two copies and a slower read loop), its chunks decoded by tensio when filtered
 * (`filtered-chunks.ts`).
 *
 * It never decides anything it is not sure of: a structure it does not know (extensible
 * arrays, version-2 B-trees, compact or virtual layouts, external files), chunks never
 * written where libhdf5 would leave them unset, a pipeline other than libhdf5's, a
 * checksum or size that does not add up — each gives a reason to decline, and the
 * caller reads through libhdf5 as before. Pure over an async range reader; no Node import.
 */
import { hdf5Lookup3 } from './checksums.js';
import { hdf5DecodePipeline, hdf5FillElement, type Hdf5PipelineFilter } from './dataset-messages.js';
import { Cursor, Declined, decline } from './location-cursor.js';
import { HDF5_SIGNATURE } from './read.js';

/** Reads `length` bytes at absolute file offset `offset` (the caller keeps it inside the file). */
export type Hdf5RangeRead = (offset: number, length: number) => Promise<Uint8Array>;

/** One stored chunk of a dataset. */
export interface Hdf5StoredChunk {
  /** The chunk's index along each axis of the chunk grid (its element offset / chunk size). */
  readonly grid: readonly number[];
  /** Absolute file offset of its bytes. */
  readonly offset: number;
  /** Bytes stored: the chunk's size when unfiltered, what the filters made of it otherwise. */
  readonly storedBytes: number;
  /** Bit i set: filter i of the pipeline was skipped for this chunk (an optional filter that failed when it was written). */
  readonly filterMask: number;
}

/** Where a dataset's bytes are. */
export type Hdf5DataLocation =
  | { readonly kind: 'contiguous'; /** Absolute file offset of the C-order bytes. */ readonly offset: number }
  | {
    readonly kind: 'chunked';
    /** Chunk shape in elements, one per axis of the dataspace. */
    readonly chunkShape: readonly number[];
    /** Bytes of one chunk once decoded (every chunk is stored whole, edge chunks padded). */
    readonly chunkBytes: number;
    /** The stored chunks, in C order of the grid (every chunk of the grid unless `fill` is set). */
    readonly chunks: readonly Hdf5StoredChunk[];
    /** The filters, in the order they were applied when writing (empty when unfiltered). */
    readonly pipeline: readonly Hdf5PipelineFilter[];
    /** One element's bytes that chunks never written read as; present only when some are missing. */
    readonly fill?: Uint8Array;
  };

/** Why the bytes are left to libhdf5. */
export interface Hdf5Declined {
  readonly declined: string;
}

/** What the dataset is, as libhdf5 described it (checked against what the file says). */
export interface Hdf5LocateRequest {
  /** Object header address (relative to the base address), as an object reference holds it. */
  readonly objectAddress: number;
  readonly space: readonly number[];
  readonly elementBytes: number;
  /** libhdf5's chunk shape, `null` when not chunked. */
  readonly chunks: readonly number[] | null;
  /** libhdf5's filter ids in pipeline order (default none): the file's pipeline must say the same. */
  readonly filters?: readonly number[];
}

/** Most object header blocks and B-tree nodes visited for one dataset (a cycle in a corrupt file ends here). */
const MAX_BLOCKS = 1_000_000;
/** Bytes read at once while the size of a structure is still unknown. */
const PROBE_BYTES = 4096;

/** The superblock facts this file needs. */
interface Superblock {
  readonly base: number;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
  readonly fileSize: number;
}

/**
 * Reads the superblock at `superblockOffset` (0 or behind a user block): sizes of
 * offsets and lengths; the base address is the superblock's own position, as libhdf5
 * takes it.
 */
async function readSuperblock(read: Hdf5RangeRead, fileSize: number, superblockOffset: number): Promise<Superblock> {
  const bytes = await read(superblockOffset, Math.min(16, fileSize - superblockOffset));
  if (bytes.byteLength < 16) decline('the file is shorter than a superblock');
  for (let i = 0; i < HDF5_SIGNATURE.byteLength; i++) if (bytes[i] !== HDF5_SIGNATURE[i]) decline('no superblock signature');
  const version = bytes[8]!;
  const [offsetBytes, lengthBytes] = version <= 1 ? [bytes[13]!, bytes[14]!] : version <= 3 ? [bytes[9]!, bytes[10]!] : decline(`superblock version ${version}`);
  for (const size of [offsetBytes, lengthBytes]) if (size !== 2 && size !== 4 && size !== 8) decline(`${size}-byte file addresses`);
  return { base: superblockOffset, offsetBytes, lengthBytes, fileSize };
}

/** Reads `length` bytes at a relative address, declining when they lie outside the file. */
async function readRelative(read: Hdf5RangeRead, sb: Superblock, address: number, length: number): Promise<Uint8Array> {
  const at = sb.base + address;
  if (!Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(at) || at + length > sb.fileSize) decline(`${length} bytes at address ${address} lie past the end of the file`);
  return read(at, length);
}

/** The messages of an object header this file looks at. */
interface HeaderMessages {
  layout?: Uint8Array;
  pipeline?: Uint8Array;
  fill?: Uint8Array;
  oldFill?: Uint8Array;
  /** A message that makes libhdf5 read the bytes otherwise (external files). */
  otherwise?: string;
}

const MESSAGE_OLD_FILL = 0x0004;
const MESSAGE_FILL = 0x0005;
const MESSAGE_LAYOUT = 0x0008;
const MESSAGE_FILTERS = 0x000b;
const MESSAGE_EXTERNAL_FILES = 0x0007;
const MESSAGE_CONTINUATION = 0x0010;
/** Message flag: the body refers to a message shared by several objects. */
const MESSAGE_SHARED = 0x02;

function noteMessage(found: HeaderMessages, type: number, body: Uint8Array): void {
  if (type === MESSAGE_LAYOUT) found.layout = body;
  else if (type === MESSAGE_EXTERNAL_FILES) found.otherwise = 'its data is in external files';
  else if (type === MESSAGE_FILTERS) found.pipeline = body;
  else if (type === MESSAGE_FILL) found.fill = body;
  else if (type === MESSAGE_OLD_FILL) found.oldFill = body;
}

/** How the messages of one object header version are framed. */
interface HeaderFraming {
  /** Bytes of a message's header: type, size, flags (and more). */
  readonly headerBytes: number;
  /** Bytes of the type field (2 in version 1, 1 in version 2). */
  readonly typeBytes: number;
  /** The messages of one block: its bytes without prefix, signature or checksum. */
  messagesOf(bytes: Uint8Array, first: boolean): Uint8Array;
}

/** Version 1: a 16-byte prefix, then messages with 8-byte headers; continuation blocks are bare messages. */
function framingV1(): { framing: HeaderFraming; firstBlock: (address: number, head: Cursor) => { address: number; length: number } } {
  return {
    framing: { headerBytes: 8, typeBytes: 2, messagesOf: (bytes) => bytes },
    firstBlock: (address, head) => {
      head.skip(8); // version, reserved, message count, reference count
      return { address: address + 16, length: head.u32() };
    },
  };
}

/** Version 2 ("OHDR"): blocks end with a lookup3 checksum; continuation blocks start with "OCHK". */
function framingV2(head: Cursor, sb: Superblock): { framing: HeaderFraming; length: number } {
  head.signature('OHDR');
  if (head.u8() !== 2) decline('an object header version other than 1 or 2');
  const flags = head.u8();
  if (flags & 0x20) head.skip(16); // access, modification, change and birth times
  if (flags & 0x10) head.skip(4); // attribute phase change values
  const chunk0 = head.uint(1 << (flags & 0x03)) ?? decline('an undefined object header size');
  const prefixBytes = head.at;
  const framing: HeaderFraming = {
    headerBytes: flags & 0x04 ? 6 : 4, // creation order stored
    typeBytes: 1,
    messagesOf: (bytes, first) => {
      if (bytes.byteLength < 8) decline('an object header block too short');
      const stored = new Cursor(bytes.subarray(bytes.byteLength - 4), 8, 8).u32();
      if (hdf5Lookup3(bytes.subarray(0, bytes.byteLength - 4)) !== stored) decline('an object header checksum does not match');
      if (!first) new Cursor(bytes, sb.offsetBytes, sb.lengthBytes).signature('OCHK');
      return bytes.subarray(first ? prefixBytes : 4, bytes.byteLength - 4);
    },
  };
  // The first block: from the signature to the checksum after its messages.
  return { framing, length: prefixBytes + chunk0 + 4 };
}

/** Walks an object header (version 1 or 2) and its continuation blocks. */
async function readObjectHeader(read: Hdf5RangeRead, sb: Superblock, address: number): Promise<HeaderMessages> {
  const found: HeaderMessages = {};
  const head = new Cursor(await readRelative(read, sb, address, Math.min(PROBE_BYTES, sb.fileSize - sb.base - address)), sb.offsetBytes, sb.lengthBytes);
  let framing: HeaderFraming;
  const pending: { address: number; length: number }[] = [];
  if (head.bytes[0] === 1) {
    const v1 = framingV1();
    framing = v1.framing;
    pending.push(v1.firstBlock(address, head));
  } else {
    const v2 = framingV2(head, sb);
    framing = v2.framing;
    pending.push({ address, length: v2.length });
  }
  for (let visited = 0; pending.length > 0; visited++) {
    if (visited > MAX_BLOCKS) decline('too many object header blocks');
    const block = pending.shift()!;
    const messages = framing.messagesOf(await readRelative(read, sb, block.address, block.length), visited === 0);
    const cursor = new Cursor(messages, sb.offsetBytes, sb.lengthBytes);
    // A gap shorter than a message header may end a block.
    while (cursor.at + framing.headerBytes <= messages.byteLength) {
      const type = framing.typeBytes === 2 ? cursor.u16() : cursor.u8();
      const size = cursor.u16();
      const flags = cursor.u8();
      cursor.skip(framing.headerBytes - framing.typeBytes - 3); // reserved or creation order
      const body = messages.subarray(cursor.at, cursor.at + size);
      if (body.byteLength !== size) decline('an object header message runs past its block');
      cursor.skip(size);
      if (type === MESSAGE_CONTINUATION) {
        const c = new Cursor(body, sb.offsetBytes, sb.lengthBytes);
        pending.push({ address: c.address() ?? decline('an undefined continuation address'), length: c.length() });
      } else if (flags & MESSAGE_SHARED) {
        // The body is a reference to a message stored elsewhere (shared object header messages).
        if (type === MESSAGE_LAYOUT || type === MESSAGE_FILTERS || type === MESSAGE_FILL || type === MESSAGE_OLD_FILL) found.otherwise = `a shared message of type ${type}`;
      } else {
        noteMessage(found, type, body);
      }
    }
  }
  return found;
}

/** A decoded layout message: what the chunk index needs. */
type Layout =
  | { kind: 'contiguous'; address: number | undefined }
  | { kind: 'chunked'; dims: number[]; index: 'btree1' | 'single' | 'implicit' | 'farray'; address: number | undefined; pageBits: number; single?: ChunkEntry }
  | { kind: 'other'; what: string };

/** A chunk index entry's stored size and filter mask. */
interface ChunkEntry {
  readonly size: number;
  readonly mask: number;
}

function decodeLayout(body: Uint8Array, sb: Superblock): Layout {
  const c = new Cursor(body, sb.offsetBytes, sb.lengthBytes);
  const version = c.u8();
  if (version === 1 || version === 2) {
    const ndims = c.u8();
    const layoutClass = c.u8();
    c.skip(5);
    if (layoutClass === 0) return { kind: 'other', what: 'compact layout' };
    const address = c.address();
    const dims = Array.from({ length: ndims }, () => c.u32());
    if (layoutClass === 1) return { kind: 'contiguous', address };
    if (layoutClass === 2) return { kind: 'chunked', dims, index: 'btree1', address, pageBits: 0 };
    return { kind: 'other', what: `layout class ${layoutClass}` };
  }
  if (version !== 3 && version !== 4) return { kind: 'other', what: `layout message version ${version}` };
  const layoutClass = c.u8();
  if (layoutClass === 1) {
    const address = c.address();
    c.length();
    return { kind: 'contiguous', address };
  }
  if (layoutClass !== 2) return { kind: 'other', what: layoutClass === 0 ? 'compact layout' : `layout class ${layoutClass}` };
  if (version === 3) {
    const ndims = c.u8();
    const address = c.address();
    const dims = Array.from({ length: ndims }, () => c.u32());
    return { kind: 'chunked', dims, index: 'btree1', address, pageBits: 0 };
  }
  const flags = c.u8();
  const ndims = c.u8();
  const width = c.u8();
  if (width < 1 || width > 8) return { kind: 'other', what: `${width}-byte chunk dimensions` };
  const dims = Array.from({ length: ndims }, () => c.uint(width) ?? decline('an undefined chunk dimension'));
  const indexType = c.u8();
  let pageBits = 0;
  let single: ChunkEntry | undefined;
  let index: 'single' | 'implicit' | 'farray';
  if (indexType === 1) {
    index = 'single';
    // A filtered single chunk keeps its stored size and mask in the layout message.
    if (flags & 0x02) single = { size: c.length(), mask: c.u32() };
  } else if (indexType === 2) {
    index = 'implicit';
  } else if (indexType === 3) {
    index = 'farray';
    pageBits = c.u8();
  } else {
    return { kind: 'other', what: indexType === 4 ? 'extensible array chunk index' : indexType === 5 ? 'version-2 B-tree chunk index' : `chunk index type ${indexType}` };
  }
  return { kind: 'chunked', dims, index, address: c.address(), pageBits, ...(single ? { single } : {}) };
}

/** Chunk grid size along each axis. */
function gridOf(space: readonly number[], chunkShape: readonly number[]): number[] {
  return space.map((dim, k) => Math.ceil(dim / chunkShape[k]!));
}

/** What a chunk index entry must satisfy: unfiltered chunks are stored whole with an empty mask. */
interface EntryRule {
  readonly chunkBytes: number;
  /** Filters in the pipeline (0: unfiltered). */
  readonly filters: number;
}

function checkEntry(entry: ChunkEntry, rule: EntryRule, what: string): void {
  if (rule.filters === 0) {
    if (entry.size !== rule.chunkBytes || entry.mask !== 0) decline(`${what} of ${entry.size} bytes (filter mask ${entry.mask}) where ${rule.chunkBytes} unfiltered bytes belong`);
  } else if (entry.size <= 0 || entry.mask >= 2 ** rule.filters || entry.size > rule.chunkBytes + (rule.chunkBytes >> 3) + 4096) {
    // Deflate makes at most a few bytes more than it was given: a larger stored size is not a chunk of this dataset (nor memory to spend on it).
    decline(`${what} of ${entry.size} bytes with filter mask ${entry.mask} (${rule.filters} filters, ${rule.chunkBytes}-byte chunks)`);
  }
}

/** Walks a version-1 B-tree of chunks; returns every stored chunk's grid index, address, size and mask. */
async function readBtree1(read: Hdf5RangeRead, sb: Superblock, root: number, chunkShape: readonly number[], rule: EntryRule, gridShape: readonly number[]): Promise<Hdf5StoredChunk[]> {
  const total = gridShape.reduce((a, b) => a * b, 1);
  const rank = chunkShape.length;
  const chunks: Hdf5StoredChunk[] = [];
  const keyBytes = 8 + 8 * (rank + 1);
  const pending = [root];
  let visited = 0;
  while (pending.length > 0) {
    if (++visited > MAX_BLOCKS || chunks.length > total) decline('a chunk B-tree larger than its dataset');
    const address = pending.pop()!;
    const head = await readRelative(read, sb, address, 8 + 2 * sb.offsetBytes);
    const h = new Cursor(head, sb.offsetBytes, sb.lengthBytes);
    h.signature('TREE');
    if (h.u8() !== 1) decline('a B-tree node that does not index chunks');
    const level = h.u8();
    const entries = h.u16();
    const body = await readRelative(read, sb, address + head.byteLength, entries * (keyBytes + sb.offsetBytes) + keyBytes);
    const c = new Cursor(body, sb.offsetBytes, sb.lengthBytes);
    const children: number[] = [];
    for (let i = 0; i < entries; i++) {
      const size = c.u32();
      const mask = c.u32();
      const offsets = Array.from({ length: rank + 1 }, () => c.uint(8) ?? decline('an undefined chunk offset'));
      const child = c.address() ?? decline('an undefined B-tree child');
      if (level > 0) {
        children.push(child);
        continue;
      }
      checkEntry({ size, mask }, rule, 'a chunk');
      const grid = offsets.slice(0, rank).map((offset, k) => (offset % chunkShape[k]! === 0 && offset / chunkShape[k]! < gridShape[k]! ? offset / chunkShape[k]! : decline('a chunk offset off the chunk grid')));
      chunks.push({ grid, offset: sb.base + child, storedBytes: size, filterMask: mask });
    }
    // Children in key order: pushed reversed so the stack visits them left to right (order is restored by sorting anyway).
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
  }
  return chunks;
}

/** A fixed-array entry: the chunk's address (`undefined`: never written), stored size and mask. */
interface FixedArrayEntry extends ChunkEntry {
  readonly address: number | undefined;
}

/** Reads a fixed-array chunk index (header, data block and its pages). */
async function readFixedArray(read: Hdf5RangeRead, sb: Superblock, headerAddress: number, grid: readonly number[], rule: EntryRule): Promise<FixedArrayEntry[]> {
  const headerLength = 4 + 4 + sb.lengthBytes + sb.offsetBytes + 4;
  const header = await readRelative(read, sb, headerAddress, headerLength);
  if (hdf5Lookup3(header.subarray(0, headerLength - 4)) !== new Cursor(header.subarray(headerLength - 4), 8, 8).u32()) decline('a fixed-array header checksum does not match');
  const h = new Cursor(header, sb.offsetBytes, sb.lengthBytes);
  h.signature('FAHD');
  h.skip(1);
  const filtered = h.u8() === 1;
  if (filtered !== rule.filters > 0) decline(`a fixed array of ${filtered ? 'filtered' : 'unfiltered'} chunks for a dataset with ${rule.filters} filters`);
  const entryBytes = h.u8();
  const pageBits = h.u8();
  const count = h.length();
  const blockAddress = h.address() ?? decline('an undefined fixed-array data block');
  const expected = grid.reduce((a, b) => a * b, 1);
  // A filtered entry: address, the stored size in as many bytes as the rest leaves, the mask.
  const sizeBytes = filtered ? entryBytes - sb.offsetBytes - 4 : 0;
  if ((filtered ? sizeBytes < 1 || sizeBytes > 8 : entryBytes !== sb.offsetBytes) || count !== expected) decline(`a fixed array of ${count} entries of ${entryBytes} bytes where ${expected} chunks belong`);
  const prefixLength = 4 + 2 + sb.offsetBytes;
  const pageEntries = 2 ** pageBits;
  const entries: FixedArrayEntry[] = [];
  const entriesOf = (bytes: Uint8Array, n: number) => {
    const c = new Cursor(bytes, sb.offsetBytes, sb.lengthBytes);
    for (let i = 0; i < n; i++) {
      const address = c.address();
      const entry = filtered ? { address, size: c.uint(sizeBytes) ?? decline('an undefined chunk size'), mask: c.u32() } : { address, size: rule.chunkBytes, mask: 0 };
      if (address !== undefined) checkEntry(entry, rule, `chunk ${entries.length}`);
      entries.push(entry);
    }
  };
  const missing = (n: number) => {
    for (let i = 0; i < n; i++) entries.push({ address: undefined, size: 0, mask: 0 });
  };
  const checked = (bytes: Uint8Array, what: string) => {
    if (hdf5Lookup3(bytes.subarray(0, bytes.byteLength - 4)) !== new Cursor(bytes.subarray(bytes.byteLength - 4), 8, 8).u32()) decline(`a fixed-array ${what} checksum does not match`);
    return bytes.subarray(0, bytes.byteLength - 4);
  };
  if (count <= pageEntries) {
    const block = checked(await readRelative(read, sb, blockAddress, prefixLength + count * entryBytes + 4), 'data block');
    new Cursor(block, sb.offsetBytes, sb.lengthBytes).signature('FADB');
    entriesOf(block.subarray(prefixLength), count);
    return entries;
  }
  const pages = Math.ceil(count / pageEntries);
  const bitmapBytes = Math.ceil(pages / 8);
  const block = checked(await readRelative(read, sb, blockAddress, prefixLength + bitmapBytes + 4), 'data block');
  new Cursor(block, sb.offsetBytes, sb.lengthBytes).signature('FADB');
  const bitmap = block.subarray(prefixLength);
  let at = blockAddress + prefixLength + bitmapBytes + 4;
  for (let page = 0; page < pages; page++) {
    const n = Math.min(pageEntries, count - page * pageEntries);
    const length = n * entryBytes + 4;
    // libhdf5 sets bits from the most significant bit of each byte.
    if ((bitmap[page >> 3]! & (0x80 >> (page & 7))) === 0) missing(n);
    else entriesOf(checked(await readRelative(read, sb, at, length), 'page'), n);
    at += length;
  }
  return entries;
}

/**
 * Finds where a dataset's bytes are, or why they are left to libhdf5.
 * `superblockOffset` is where the signature is (0 or past a user block); `fileSize`
 * bounds every address. A chunked dataset's filters must be the ones libhdf5 reported
 * (`request.filters`); whether tensio can decode them is the caller's business.
 *
 * @example
 * ```ts
 * const where = await hdf5LocateData(read, size, 0, { objectAddress, space: [4, 3], elementBytes: 4, chunks: null });
 * if ('declined' in where) console.log(where.declined); // read through libhdf5
 * ```
 */
export async function hdf5LocateData(read: Hdf5RangeRead, fileSize: number, superblockOffset: number, request: Hdf5LocateRequest): Promise<Hdf5DataLocation | Hdf5Declined> {
  try {
    return await locate(read, fileSize, superblockOffset, request);
  } catch (error) {
    if (error instanceof Declined) return { declined: error.message };
    throw error;
  }
}

async function locate(read: Hdf5RangeRead, fileSize: number, superblockOffset: number, request: Hdf5LocateRequest): Promise<Hdf5DataLocation> {
  const { space, elementBytes } = request;
  const sb = await readSuperblock(read, fileSize, superblockOffset);
  const messages = await readObjectHeader(read, sb, request.objectAddress);
  if (messages.otherwise) decline(messages.otherwise);
  if (!messages.layout) decline('no data layout message');
  const layout = decodeLayout(messages.layout, sb);
  if (layout.kind === 'other') decline(layout.what);
  const pipeline = messages.pipeline ? hdf5DecodePipeline(messages.pipeline) : [];
  const expectedFilters = request.filters ?? [];
  if (pipeline.length !== expectedFilters.length || pipeline.some((filter, i) => filter.id !== expectedFilters[i])) {
    decline(`the file's filter pipeline [${pipeline.map((f) => f.id).join(', ')}] is not libhdf5's [${expectedFilters.join(', ')}]`);
  }
  const totalBytes = space.reduce((a, b) => a * b, elementBytes);
  if (layout.kind === 'contiguous') {
    if (request.chunks) decline('libhdf5 says chunked, the file says contiguous');
    if (pipeline.length > 0) decline('a contiguous dataset with filters');
    if (layout.address === undefined) decline('no storage allocated (every element is the fill value)');
    if (sb.base + layout.address + totalBytes > fileSize) decline('the data lies past the end of the file');
    return { kind: 'contiguous', offset: sb.base + layout.address };
  }
  const chunkShape = layout.dims.slice(0, -1);
  if (layout.dims[layout.dims.length - 1] !== elementBytes || !request.chunks || chunkShape.length !== space.length || chunkShape.some((dim, k) => dim !== request.chunks![k] || dim <= 0)) {
    decline(`chunk dimensions [${layout.dims.join(', ')}] do not match libhdf5's`);
  }
  const chunkBytes = chunkShape.reduce((a, b) => a * b, elementBytes);
  const rule: EntryRule = { chunkBytes, filters: pipeline.length };
  const grid = gridOf(space, chunkShape);
  const total = grid.reduce((a, b) => a * b, 1);
  const chunks: Hdf5StoredChunk[] = [];
  const gridIndex = (linear: number) => {
    const index = new Array<number>(grid.length);
    for (let k = grid.length - 1; k >= 0; k--) {
      index[k] = linear % grid[k]!;
      linear = Math.floor(linear / grid[k]!);
    }
    return index;
  };
  if (layout.address === undefined) {
    // No chunk index at all: nothing was ever written (every element is the fill value).
  } else if (layout.index === 'single') {
    if (total !== 1) decline('a single-chunk index over several chunks');
    const entry = layout.single ?? { size: chunkBytes, mask: 0 };
    checkEntry(entry, rule, 'the single chunk');
    chunks.push({ grid: gridIndex(0), offset: sb.base + layout.address, storedBytes: entry.size, filterMask: entry.mask });
  } else if (layout.index === 'implicit') {
    if (pipeline.length > 0) decline('an implicit chunk index with filters');
    for (let i = 0; i < total; i++) chunks.push({ grid: gridIndex(i), offset: sb.base + layout.address + i * chunkBytes, storedBytes: chunkBytes, filterMask: 0 });
  } else if (layout.index === 'farray') {
    const entries = await readFixedArray(read, sb, layout.address, grid, rule);
    entries.forEach((entry, i) => {
      if (entry.address !== undefined) chunks.push({ grid: gridIndex(i), offset: sb.base + entry.address, storedBytes: entry.size, filterMask: entry.mask });
    });
  } else {
    chunks.push(...(await readBtree1(read, sb, layout.address, chunkShape, rule, grid)));
    const linear = (index: readonly number[]) => index.reduce((sum, value, k) => sum * grid[k]! + value, 0);
    chunks.sort((a, b) => linear(a.grid) - linear(b.grid));
    chunks.forEach((chunk, i) => {
      if (i > 0 && linear(chunk.grid) === linear(chunks[i - 1]!.grid)) decline('a chunk B-tree with a repeated chunk');
    });
  }
  for (const chunk of chunks) if (chunk.offset + chunk.storedBytes > fileSize) decline('a chunk lies past the end of the file');
  // Chunks never written read as the fill value, when libhdf5 would fill them.
  const fill = chunks.length < total ? hdf5FillElement(messages.fill, messages.oldFill, elementBytes) : undefined;
  return { kind: 'chunked', chunkShape, chunkBytes, chunks, pipeline, ...(fill ? { fill } : {}) };
}
