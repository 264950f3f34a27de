/**
 * The operations over every format: the registry (an explicit list), detection,
 * `openTensorFile`, `convert` and `verifyTensorFile`. This layer sits above the formats;
 * no format imports it.
 */
export { BUILT_IN_FORMATS, getFormat, type FormatListOption } from './registry.js';
export { detectFormat, detectSourceFormat, fileExtension, formatForOutputPath, probeSource, SNIFF_HEAD_BYTES, SNIFF_TAIL_BYTES } from './detect.js';
export { openTensorFile, type OpenTensorFileOptions } from './open.js';
export { convert, convertReader, type ConvertOptions, type ConvertResult } from './convert.js';
export { finishSplitConvert, type FinishSplitConvertOptions, type FinishSplitConvertResult } from './convert-finish.js';
export { verifyTensorFile, type VerifyTensorFileOptions } from './verify.js';
export type { BuiltInFormatName, FormatOptionsByName, OpenFormatOptions, WriteFormatOptions } from './format-options.js';
export { checkOutputPath } from './output-path.js';
export { diffTensorFiles, diffTensorReaders, type DiffOptions, type DiffReport, type DiffSide, type DiffTensorSummary, type DiffChangedSpec, type DiffChangedContent, type DiffLocation } from './diff.js';
export { contentId, type ContentIdOptions } from './content-id.js';
export { mergeTensorFiles, type MergeOptions, type MergeResult } from './merge.js';
