/**
 * HDF5's direct path in tests: every dataset of a file with the location
 * `hdf5DirectLocation` finds for it (or why it declined) and its bytes read through that
 * location, plus a row slice and a stream checked against the whole read.
 */
import assert from 'node:assert/strict';
import { hdf5DescribeFile } from '../../src/formats/hdf5/describe.js';
import { hdf5DirectLocation } from '../../src/formats/hdf5/direct-read.js';
import { hdf5Library } from '../../src/formats/hdf5/library.js';
import type { TensorLocation } from '../../src/model/create-reader.js';
import { fileSource } from '../../src/storage/file-source.js';
import { readChunkedBytes, streamChunkedBytes } from '../../src/storage/chunked-bytes.js';

/** One dataset as the direct path sees it. */
export interface DirectEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly byteLength: number;
  readonly where: TensorLocation | { declined: string };
  /** Its bytes read through `where` (throws when declined). */
  read(): Promise<Uint8Array>;
}

/** Every dataset of `path` with its direct location (or the reason it has none). */
export async function directLocations(path: string): Promise<DirectEntry[]> {
  const library = await hdf5Library();
  const file = library.openFile(path);
  const source = await fileSource(path, { map: false });
  try {
    const description = hdf5DescribeFile(library.module, file, path, {});
    const result = [];
    for (const info of description.tensors) {
      const plan = description.plans[info.name]!;
      const reference = library.module.create_object_reference(file.file_id, plan.path);
      let address = 0;
      for (let i = 7; i >= 0; i--) address = address * 256 + reference[i]!;
      const where = await hdf5DirectLocation(source, plan, address);
      const read = async () => {
        if ('declined' in where) throw new Error(where.declined);
        if (where.kind === 'span') return where.source.read(where.offset, info.byteLength);
        if (where.kind === 'chunks') return readChunkedBytes(where.chunks, 0, info.byteLength);
        return where.decode();
      };
      result.push({ name: info.name, shape: info.shape, byteLength: info.byteLength, where, read: async () => (await read()).slice() });
    }
    // Read before closing the source.
    const done = [];
    for (const entry of result) {
      const bytes = 'declined' in entry.where ? undefined : await entry.read();
      if (bytes && !('declined' in entry.where) && entry.where.kind === 'chunks' && entry.shape.length > 0 && entry.shape[0]! > 2) {
        // A row slice decodes only the bands it touches, and from inside them.
        const rowBytes = bytes.byteLength / entry.shape[0]!;
        const middle = await readChunkedBytes(entry.where.chunks, rowBytes, bytes.byteLength - rowBytes);
        assert.deepEqual(middle, bytes.subarray(rowBytes, bytes.byteLength - rowBytes), `${path}: ${entry.name} rows 1..-1`);
        // A stream gives the same bytes, band by band (the next one decoded ahead).
        const pieces: Uint8Array[] = [];
        for await (const piece of streamChunkedBytes(entry.where.chunks, { pieceBytes: 64 * 1024 })) pieces.push(piece.slice());
        assert.deepEqual(Buffer.concat(pieces), Buffer.from(bytes), `${path}: ${entry.name} streamed`);
      }
      done.push({ ...entry, read: async () => bytes! });
    }
    return done;
  } finally {
    file.close();
    await source.close();
  }
}

