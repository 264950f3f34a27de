/**
 * `snappy` (a native addon, the optional fast snappy decoder of Parquet reads) for the
 * browser bundle: nothing. `formats/parquet/snappy-native.ts` finds no `uncompress`
 * here and reads snappy pages with hysnappy's WebAssembly, as it does in Node when the
 * optional package is missing.
 */
export {};
