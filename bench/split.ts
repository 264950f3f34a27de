/**
 * Split conversion (group `split`): a safetensors checkpoint converted into a sharded
 * one as 4 parts (`tensio convert --part I/4`, 4 concurrent processes, then
 * `--finish`) against the same conversion in one process (`--max-shard-size` of a
 * quarter, so both write 4 shards and an index), and raw `fs` copying the same bytes.
 * Both CLI contenders pay Node's start-up per process (the built `dist/` CLI when it
 * exists, else the sources through tsx: then start-up dominates small sizes). The
 * library rows run the same work in this process (4 parts one after the other, then
 * the finish, against one `convert`), which is the overhead of the split itself:
 * the deal, the part manifests and the finish's checks (an XXH3-64 of every shard).
 * On 2 shared cores the point is overhead, not speed-up. No peer splits a conversion.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliProcessKind, runCliProcess } from './lib/cli-process.js';
import { logThroughputs, throughput, type BenchContext } from './lib/context.js';
import { makeMixedTensors, safetensorsFixtureHeader, writeFixtureFile } from './lib/fixtures.js';
import { compareRow } from './lib/report.js';
import { runRounds, timeIt } from './lib/timing.js';
import type { BenchRow } from './lib/types.js';

const PARTS = 4;
const cli = (args: readonly string[]): Promise<void> => runCliProcess(args);

/** A fresh empty output folder. */
function freshFolder(path: string): void {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path);
}

export async function runSplitBench(context: BenchContext): Promise<BenchRow[]> {
  const { tensio, dir, log } = context;
  const totalBytes = context.sizeMiB * 2 ** 20;
  const tensors = makeMixedTensors(totalBytes, 64);
  const input = join(dir, 'split-in.safetensors');
  const { header } = safetensorsFixtureHeader(tensors);
  writeFixtureFile(input, [header, ...tensors.map((tensor) => tensor.data)]);
  const bytes = tensors.reduce((sum, tensor) => sum + tensor.data.byteLength, 0);
  const shardSize = String(Math.ceil(bytes / PARTS) + 4096);
  const folders = { single: join(dir, 'split-single'), parts: join(dir, 'split-parts'), libSingle: join(dir, 'split-lib-single'), libParts: join(dir, 'split-lib-parts') };
  const index = (folder: string) => join(folder, 'model.safetensors.index.json');
  log(`split: ${tensors.length} tensors, ${(bytes / 2 ** 20).toFixed(0)} MiB, ${PARTS} parts; CLI ${cliProcessKind()}`);
  let partsOnly = 0;
  const results = await runRounds([
    { name: 'raw fs copy', before: () => rmSync(join(dir, 'split-copy.safetensors'), { force: true }), run: () => timeIt(() => copyFile(input, join(dir, 'split-copy.safetensors'))) },
    { name: 'cli 1 process', before: () => freshFolder(folders.single), run: () => timeIt(() => cli(['convert', input, index(folders.single), '--max-shard-size', shardSize, '--quiet'])) },
    {
      name: `cli ${PARTS} processes + finish`,
      before: () => freshFolder(folders.parts),
      run: () => timeIt(async () => {
        const started = performance.now();
        await Promise.all(Array.from({ length: PARTS }, (_, at) => cli(['convert', input, index(folders.parts), '--part', `${at + 1}/${PARTS}`, '--quiet'])));
        partsOnly = (performance.now() - started) / 1000;
        await cli(['convert', '--finish', index(folders.parts), '--quiet']);
      }),
    },
    {
      name: `cli ${PARTS} processes + finish --skip-checksums`,
      before: () => freshFolder(folders.parts),
      run: () => timeIt(async () => {
        await Promise.all(Array.from({ length: PARTS }, (_, at) => cli(['convert', input, index(folders.parts), '--part', `${at + 1}/${PARTS}`, '--quiet'])));
        await cli(['convert', '--finish', index(folders.parts), '--quiet', '--skip-checksums']);
      }),
    },
    { name: 'library convert', before: () => freshFolder(folders.libSingle), run: () => timeIt(() => tensio.convert(input, index(folders.libSingle), { writeOptions: { maxShardBytes: Number(shardSize) } })) },
    {
      name: `library ${PARTS} parts + finish`,
      before: () => freshFolder(folders.libParts),
      run: () => timeIt(async () => {
        for (let at = 1; at <= PARTS; at++) await tensio.convert(input, index(folders.libParts), { part: { index: at, count: PARTS } });
        await tensio.finishSplitConvert(index(folders.libParts));
      }),
    },
  ], context.reps + (context.reps > 1 ? 1 : 0));
  logThroughputs(context, 'split', results, bytes);
  const figure = (name: string) => throughput(results.get(name), bytes).median;
  const rows: BenchRow[] = [
    compareRow('split', `CLI: ${PARTS} processes + --finish vs 1 process`, figure(`cli ${PARTS} processes + finish`), figure('cli 1 process'), '1 process', undefined, `last round: parts alone ${partsOnly.toFixed(2)} s`),
    compareRow('split', `CLI: ${PARTS} processes + --finish --skip-checksums vs 1 process`, figure(`cli ${PARTS} processes + finish --skip-checksums`), figure('cli 1 process'), '1 process'),
    compareRow('split', `library: ${PARTS} parts + finish vs convert (overhead)`, figure(`library ${PARTS} parts + finish`), figure('library convert'), 'convert'),
    compareRow('split', `CLI: ${PARTS} processes + --finish vs raw fs copy`, figure(`cli ${PARTS} processes + finish`), figure('raw fs copy'), 'fs.copyFile'),
    compareRow('split', 'CLI: 1 process vs raw fs copy', figure('cli 1 process'), figure('raw fs copy'), 'fs.copyFile'),
  ];
  for (const folder of Object.values(folders)) rmSync(folder, { recursive: true, force: true });
  rmSync(join(dir, 'split-copy.safetensors'), { force: true });
  return rows;
}
