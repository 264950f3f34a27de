/**
 * The zip container shared by `.npz` and PyTorch `.pt`: reading over any ByteSource,
 * streaming writes to any ByteSink.
 */
export type { ZipAddOptions, ZipArchive, ZipEntry, ZipOpenOptions, ZipWriter, ZipWriterOptions } from './types.js';
export { zipOpen } from './read.js';
export { zipCreateWriter } from './write.js';
export { zipNameProblem, zipCheckName, zipDecodeName } from './names.js';
