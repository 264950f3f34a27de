/**
 * How a writer's `s3://` path meets its call's `s3` settings (`WriterOptions.s3`): the
 * operations layer sets the binder once (`src/operations/registry.ts`: the path becomes
 * the same key of an S3 store made with the settings), and {@link lazyFormat}'s
 * `createWriter` applies it before the format's writer sees the target. `model/` only
 * holds the hook: it must not reach the Node-only S3 modules itself (the browser-safe
 * walk), and a format's identity (`getFormat('zt') === ztFormat`) stays as it is.
 */
import type { S3Options } from '../storage/s3-client.js';
import type { WriteTarget } from '../storage/write-target.js';

/** Binds a target to S3 settings (returns any other target as it is). */
export type WriteTargetBinder = (target: WriteTarget, s3: S3Options) => Promise<WriteTarget>;

let binder: WriteTargetBinder | undefined;

/**
 * Sets the binder (the operations layer does, once).
 *
 * @example
 * ```ts
 * setWriteTargetBinder(async (target, s3) => (await import('../storage/write-target.js')).bindS3Target(target, s3));
 * ```
 */
export function setWriteTargetBinder(next: WriteTargetBinder): void {
  binder = next;
}

/**
 * The target a writer gets: bound to `s3` when settings are given and a binder is set.
 *
 * @example
 * ```ts
 * const target = await bindWriteTarget('s3://models/out.npz', options.s3);
 * ```
 */
export async function bindWriteTarget(target: WriteTarget, s3: S3Options | undefined): Promise<WriteTarget> {
  return s3 && binder ? binder(target, s3) : target;
}
