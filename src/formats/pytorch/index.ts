/**
 * PyTorch checkpoints: read `torch.save` files (zip and legacy) without executing their
 * pickle, and write `.pt` files that `torch.load(weights_only=True)` accepts.
 */
export type { PytorchOpenOptions, PytorchWriteOptions, PytorchDropDuplicates, PytorchByteOrder, PytorchParsed, PytorchStorageAccess } from './types.js';
export { pytorchOpen, pytorchParse, pytorchIsZip } from './reader.js';
export { pytorchWrite, pytorchCreateWriter, pytorchCreateSinkWriter, pytorchEncodeStateDict, pytorchEncodeBareTensor, pytorchCannotWrite } from './write.js';
export { pytorchListGlobals } from './globals.js';
export type { PytorchGlobalsReport, PytorchPickleGlobals, PytorchListGlobalsOptions } from './globals.js';
export { pytorchFormat } from './format.js';
export { pytorchIsLegacy, PYTORCH_LEGACY_MAGIC, PYTORCH_LEGACY_PROTOCOL_VERSION } from './legacy.js';
export { pytorchCollect, pytorchPlainValue } from './collect.js';
export type { PytorchCollected, PytorchCollectOptions, PytorchNamedTensor } from './collect.js';
export { pytorchCheckView, pytorchIsContiguous, pytorchContiguousStrides } from './rebuild.js';
export { pytorchGather, pytorchByteSwap } from './gather.js';
export { pickleRun } from './pickle/machine.js';
export type { PickleHooks, PickleLimits, PickleRunOptions, PickleRunResult } from './pickle/machine.js';
export { pickleScanGlobals, pickleDescribeGlobals } from './pickle/scan.js';
export type { PickleGlobalReference, PickleScanReport } from './pickle/scan.js';
export { PICKLE_ALLOWED_GLOBALS, pickleGlobalAllowed, pickleCanonicalGlobal } from './pickle/allow-list.js';
export { PickleEncoder } from './pickle/encode.js';
export { PICKLE_OP, pickleOpcodeName } from './pickle/opcodes.js';
export * from './pickle/values.js';
export { pytorchPickleHooks, pytorchStorageFromId, pytorchDecodeStorageId } from './pickle-hooks.js';
export type { PytorchStorageId, PytorchPickleHooksOptions } from './pickle-hooks.js';
