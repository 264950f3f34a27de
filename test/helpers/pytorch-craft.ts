/**
 * Hand-built pickles and torch-style zip checkpoints for hostile-input tests.
 */
import { craftZip } from './zip-craft.js';

/** Pickle bytes from opcodes (numbers), raw latin-1 text (strings) and byte runs. */
export function pickleBytes(...parts: Array<number | string | Uint8Array>): Uint8Array {
  const chunks = parts.map((part) => typeof part === 'number' ? Uint8Array.of(part) : typeof part === 'string' ? new Uint8Array(Buffer.from(part, 'latin1')) : part);
  return new Uint8Array(Buffer.concat(chunks));
}

/** BINUNICODE `X` + u32 length + UTF-8. */
export function binUnicode(text: string): Uint8Array {
  const body = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = 0x58;
  head.writeUInt32LE(body.byteLength, 1);
  return new Uint8Array(Buffer.concat([head, body]));
}

/** SHORT_BINUNICODE (protocol 4). */
export function shortBinUnicode(text: string): Uint8Array {
  const body = Buffer.from(text, 'utf8');
  return new Uint8Array(Buffer.concat([Buffer.from([0x8c, body.byteLength]), body]));
}

/** A zip checkpoint like torch writes (`archive/data.pkl`, records, version), unaligned and classic zip. */
export function craftCheckpoint(dataPkl: Uint8Array, storages: Record<string, Uint8Array> = {}, root = 'archive'): Uint8Array {
  return craftZip([
    { name: `${root}/data.pkl`, data: dataPkl },
    { name: `${root}/byteorder`, data: new TextEncoder().encode('little') },
    ...Object.entries(storages).map(([key, data]) => ({ name: `${root}/data/${key}`, data })),
    { name: `${root}/version`, data: new TextEncoder().encode('3\n') },
  ]);
}
