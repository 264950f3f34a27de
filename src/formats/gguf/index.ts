/**
 * GGUF (llama.cpp, ggml): read v2/v3 files of either byte order with typed metadata,
 * every ggml type (block-quantized ones as block dtypes), split models as one;
 * dequantize and quantize bit for bit as gguf-py's `gguf.quants`.
 */
export type { GgufArray, GgufArrayItems, GgufHeader, GgufOpenOptions, GgufReadOptions, GgufTensorInfo, GgufTypedValue, GgufValueType } from './types.js';
export { GGUF_VALUE_TYPES } from './types.js';
export { GGUF_MAGIC, GGUF_DEFAULT_ALIGNMENT, ggufHasMagic, ggufParseHeader } from './read.js';
export { ggufPad, ggufTensorByteLength } from './validate.js';
export { GGML_TYPE_COUNT, dtypeOfGgmlType, ggmlTypeOfDType, ggmlTypeIdOfName } from './ggml-types.js';
export { ggufReadHeader, ggufOpen, ggufOpenSource, ggufPlainValue, ggufPlainMetadata, ggufTensorInfos, type GgufReader } from './reader.js';
export { ggufFormat } from './format.js';
export { GGUF_DEQUANTIZABLE, ggufCanDequantize, ggufDequantize } from './dequantize.js';
export { ggufDequantizeStream, ggufDequantizeTensor, type DequantizeStreamOptions } from './dequantize-stream.js';
export { GGUF_QUANTIZABLE, ggufCanQuantize, ggufQuantize } from './quantize.js';
export { isGgufTypedValue, ggufTypedValue, ggufHeaderBytes, type GgufTensorEntry } from './write.js';
export { GGML_QNT_VERSION, ggufCannotWrite, ggufCreateWriter, ggufStoredDType, type GgufWriteOptions } from './writer.js';
export { ggufEditMetadata, ggufParseTypeName } from './edit.js';
