/**
 * NumPy `.npz`: a zip of `.npy` members, read stored or deflated, written streaming.
 */
export type { NpzOpenOptions, NpzWriteOptions } from './types.js';
export { NPZ_MEMBER_SUFFIX, npzKeyOf, npzMemberName } from './validate.js';
export { npzReadMemberHeader } from './read.js';
export { npzOpen, npzOpenSource } from './reader.js';
export { npzCreateWriter, npzWrite } from './write.js';
export { npzFormat, npzSniff } from './format.js';
