/**
 * NumPy `.npy`: read (v1/v2/v3 headers, every numeric dtype, big-endian and Fortran
 * order converted), write (byte-identical to `np.save`).
 */
export type { NpyHeader, NpyOpenOptions, NpyReadOptions, NpyVersion, NpyWriteOptions } from './types.js';
export { NPY_MAGIC, NPY_PREFIX_BYTES, npyHasMagic, npyReadPrefix, npyParseHeader, npyReadHeaderFromBytes, type NpyPrefix } from './read.js';
export { npyParseLiteral, npyIsLiteralDict, npyIsLiteralTuple, type NpyLiteral, type NpyLiteralDict, type NpyLiteralTuple } from './literal.js';
export { npyValidateHeaderDict, type NpyHeaderFields } from './validate.js';
export { NPY_DESCR_BY_DTYPE, npyDescrFor, npyCannotWrite, npyDtypeFromDescr, type NpyDtype } from './dtypes.js';
export { npyIsTensioLayout, npyToTensioLayout, npyByteSwap, npyFortranToC } from './layout.js';
export { npyHeaderBytes, npyChunks, npyDataBytes, npyFileBytes, npySerialize, npyWrite, type NpyWriteInput } from './write.js';
export { NPY_DEFAULT_ARRAY_NAME, npyReadHeader, npyTensorInfo, npyLocate, npyOpenSource, npyOpen } from './reader.js';
export { npyCreateWriter } from './writer.js';
export { npyFormat } from './format.js';
