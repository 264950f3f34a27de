/**
 * Stand-ins for native addons with no browser version bundled (`lz4-napi`,
 * `@node-rs/xxhash`) and for `h5wasm/node`: the build script maps them to
 * {@link unavailableModule}, so opening a file that needs one fails with
 * `UNSUPPORTED_FEATURE` naming it.
 */
export { unavailableModule } from '../node/unavailable.js';
