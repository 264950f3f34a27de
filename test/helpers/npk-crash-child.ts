/**
 * Child process of the crash tests: runs one scenario's change against a store, with
 * `TENSIO_TEST_CRASH_AFTER=npk-publish:<k>` deciding at which crash point it SIGKILLs itself.
 * Usage: node --import tsx test/helpers/npk-crash-child.ts SCENARIO DIR
 */
import { CRASH_SCENARIOS } from './npk-crash-scenarios.js';

const [scenario, dir] = process.argv.slice(2);
await CRASH_SCENARIOS[scenario!]!.act(dir!);
