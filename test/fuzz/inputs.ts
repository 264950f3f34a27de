/**
 * Fuzz inputs: seeds held in memory and the mutant of index `i`, regenerated the same
 * way by the worker (to run it) and by the parent (to keep a crash's or hang's input).
 * A seed is one file, or a folder (a NumPack store) whose mutants change one member.
 */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { mutate, mutantRandom } from './mutate.js';

/** A seed in memory: a file (one member, named by its file name) or a folder's member files. */
export interface FuzzSeed {
  /** The seed's file or folder name (`seed.npz`, `seed.npk`). */
  readonly name: string;
  readonly folder: boolean;
  /** Member files: paths relative to the folder (a file seed: one member named `name`). */
  readonly members: readonly { readonly path: string; readonly bytes: Uint8Array }[];
}

/** One mutant: which seed, which member was mutated, and that member's new bytes. */
export interface FuzzInput {
  readonly index: number;
  readonly seed: FuzzSeed;
  readonly victim: number;
  readonly bytes: Uint8Array;
}

/** Reads seed files and folders (every file under a folder, sorted) into memory. */
export async function loadSeeds(paths: readonly string[]): Promise<FuzzSeed[]> {
  return Promise.all(paths.map(async (path) => {
    if (!(await stat(path)).isDirectory()) return { name: basename(path), folder: false, members: [{ path: basename(path), bytes: new Uint8Array(await readFile(path)) }] };
    const entries = await readdir(path, { withFileTypes: true, recursive: true });
    const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name)).sort();
    return { name: basename(path), folder: true, members: await Promise.all(files.map(async (file) => ({ path: relative(path, file), bytes: new Uint8Array(await readFile(file)) }))) };
  }));
}

/**
 * Mutant `index` of a run: the seed and member are chosen, then mutated (stacked), all
 * from the generator of (run seed, index), so any mutant regenerates alone.
 */
export function mutantOf(seeds: readonly FuzzSeed[], runSeed: number, index: number): FuzzInput {
  const random = mutantRandom(runSeed, index);
  const seed = seeds[Math.floor(random() * seeds.length)]!;
  const victim = Math.floor(random() * seed.members.length);
  return { index, seed, victim, bytes: mutate(seed.members[victim]!.bytes, random, true) };
}

/**
 * Writes an input under `dir` as a file or folder named like its seed; returns its path.
 * Every member is written (files the previous input's driver removed come back), but
 * files that do not belong to the seed are left for the caller to clear.
 */
export async function writeFuzzInput(input: FuzzInput, dir: string): Promise<string> {
  const target = join(dir, input.seed.name);
  if (!input.seed.folder) {
    await writeFile(target, input.bytes);
    return target;
  }
  await Promise.all(input.seed.members.map(async (member, m) => {
    const path = join(target, member.path);
    const bytes = m === input.victim ? input.bytes : member.bytes;
    await writeFile(path, bytes).catch(async () => {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, bytes);
    });
  }));
  return target;
}
