/**
 * tensio in a web page: the browser entry of `npm run build:browser` (dist/web/tensio.js).
 * The same operations as the Node package — open, verify, diff, convert to memory — over
 * inputs a page has: a `File`/`Blob` ({@link blobSource}, read by range), an `http(s)` URL
 * (fetch with Range requests, the same checks as in Node), or bytes. Formats load their
 * heavy libraries on first use (their own chunks). What does not run in a browser is
 * listed in README ("In the browser").
 *
 * @example
 * ```ts
 * import { openTensorFile, blobSource } from './tensio.js';
 * const reader = await openTensorFile(blobSource(input.files[0]));
 * console.log(reader.tensors.map((t) => t.name));
 * ```
 */
export {
  openTensorFile, convert, convertReader, verifyTensorFile, diffTensorFiles, diffTensorReaders, detectFormat, getFormat, BUILT_IN_FORMATS,
} from '../operations/index.js';
export { blobSource, type BlobLike } from '../storage/blob-source.js';
export { bytesSource } from '../storage/byte-source.js';
export { httpSource } from '../storage/http-source.js';
export { httpStore } from '../storage/http-store.js';
export { memorySink } from '../storage/byte-sink.js';
export { TensioError, isTensioError } from '../core/errors.js';
export { createTensor } from '../core/tensor.js';
export { DTYPE_INFO, itemSize } from '../core/dtype.js';
export { toFloat32Array } from '../core/float-convert.js';
export { tensorStatistics, histogramEdges } from '../operations/tensor-stats.js';
export { tensorValues, canDecodeValues } from '../operations/tensor-values.js';
