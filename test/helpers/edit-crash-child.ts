/**
 * Child process of the edit crash tests: one metadata edit (`--set KEY=VALUE`) of FILE
 * through its format's `editMetadata`, with `TENSIO_TEST_CRASH_AFTER=file-patch:<k>`
 * deciding after which step of the in-place patch it SIGKILLs itself.
 * Usage: node --import tsx test/helpers/edit-crash-child.ts FORMAT FILE KEY VALUE
 */
import { getFormat } from '../../src/operations/index.js';

const [format, file, key, value] = process.argv.slice(2);
const result = await getFormat(format!).editMetadata!(file!, { set: [[key!, value!]] });
process.stdout.write(JSON.stringify(result));
