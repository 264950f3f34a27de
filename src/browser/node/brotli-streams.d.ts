/**
 * Types for the one hyparquet-compressors module the browser brotli stand-in imports
 * directly (the package ships types for its index only): the decoder's output object,
 * whose `buffer` and `pos` the stand-in watches to bound and measure a decode.
 */
declare module 'hyparquet-compressors/src/brotli.streams.js' {
  export class BrotliOutput {
    constructor(buffer: Uint8Array);
    buffer: Uint8Array;
    pos: number;
    write(buffer: Uint8Array, count: number): number;
  }
}
