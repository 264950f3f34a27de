/** `@node-rs/crc32` for the browser bundle: the same functions in plain TypeScript. */
export { crc32, crc32c } from './checksums.js';
