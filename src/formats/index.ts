/**
 * Registers every built-in format with the registry. Importing this module (the
 * package root does) makes `openTensorFile`, `convert` and the CLI know them all.
 */
import { registerFormat } from './registry.js';
import { npyFormat } from './npy/format.js';
import { npzFormat } from './npz/format.js';
import { safetensorsFormat } from './safetensors/format.js';
import { npkFormat } from '../npk/format.js';
import { pytorchFormat } from './pytorch/format.js';

// One line per format folder. pytorch before npz: both claim zip files, and when the
// extension cannot decide, the first match wins (npz accepts any zip).
registerFormat(safetensorsFormat);
registerFormat(npkFormat);
registerFormat(npyFormat);
registerFormat(pytorchFormat);
registerFormat(npzFormat);
