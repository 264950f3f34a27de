/**
 * CSV and TXT: numeric text tables as one 2-D array. Read streamed (a scan, then runs of
 * rows parsed on demand; gzip detected by its bytes), written streamed with the
 * shortest round-trip numbers or a printf-style `fmt` as `np.savetxt` takes it.
 */
export type { CsvDType, CsvReadOptions, CsvWriteOptions, CsvDialect, CsvScan, CsvChunkPlan } from './types.js';
export { csvParseFloat, csvParseInteger, csvParseBool, PARSE_FAILED, PARSE_MISSING } from './numbers.js';
export { CsvTokenizer } from './tokenizer.js';
export { csvDetectDelimiter, csvResolveDialect, CsvScanner, csvParseRun } from './read.js';
export { csvShortestFloat64, csvShortestFloat32 } from './format-shortest.js';
export { csvCompileFormat, type CsvCompiledFormat } from './format-printf.js';
export { CSV_DEFAULT_ARRAY_NAME, csvIsGzip, csvScanSource, csvOpenSource, csvOpen } from './reader.js';
export { CSV_WRITABLE_DTYPES, csvCannotWrite, csvTextChunks, csvCreateWriter } from './write.js';
export { csvFormat, txtFormat } from './format.js';
