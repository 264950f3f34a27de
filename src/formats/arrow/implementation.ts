/**
 * What the lazily registered Arrow format loads on first use: its reader and writer.
 */
import type { FormatImplementation } from '../../model/lazy-format.js';
import { arrowOpen } from './reader.js';
import { arrowCreateWriter } from './writer.js';

/** The Arrow format's operations. */
export const arrowImplementation: FormatImplementation = {
  open: arrowOpen,
  createWriter: arrowCreateWriter,
};
