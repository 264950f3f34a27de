/**
 * `.npz` member names and array keys.
 */
import { errorFactory } from '../../core/errors.js';
import { zipNameProblem } from '../../zip/names.js';
import { quoteInput } from '../../core/quote.js';

/** Suffix of array members. */
export const NPZ_MEMBER_SUFFIX = '.npy';

/**
 * The array key of a member (`'w.npy'` → `'w'`), or undefined for members that are not
 * arrays (numpy hands those back as raw bytes; tensio lists them in metadata).
 *
 * @example
 * ```ts
 * npzKeyOf('layer/weight.npy'); // 'layer/weight'
 * ```
 */
export function npzKeyOf(memberName: string): string | undefined {
  if (!memberName.endsWith(NPZ_MEMBER_SUFFIX) || memberName.length === NPZ_MEMBER_SUFFIX.length) return undefined;
  return memberName.slice(0, -NPZ_MEMBER_SUFFIX.length);
}

/**
 * The member name for an array key, checked to be a safe zip name (`INVALID_NAME`).
 *
 * @example
 * ```ts
 * npzMemberName('arr_0'); // 'arr_0.npy'
 * ```
 */
export function npzMemberName(key: string): string {
  const name = `${key}${NPZ_MEMBER_SUFFIX}`;
  const problem = key.length === 0 ? 'is empty' : zipNameProblem(name);
  if (problem) errorFactory('npz')('INVALID_NAME', `npz: array key ${quoteInput(key)} ${problem}`);
  return name;
}
