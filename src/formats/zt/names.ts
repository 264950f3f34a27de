/**
 * zTensor's name rules (tensor and attribute names, shard labels, digest syntax): pure
 * checks shared by the manifest parser, the writer and the registry's cheap
 * `cannotWrite`, kept apart from the parser so the registry does not load CBOR.
 */
import { ZT_MAX_NAME_BYTES, ZT_MAX_SHARD_NAME_BYTES, ztReject } from './types.js';

/** Name rules: non-empty, ≤ 1024 UTF-8 bytes, no U+0000. */
export function ztCheckName(name: string, what: string): void {
  if (name.length === 0) ztReject('Name', `${what} is empty`);
  if (name.includes('\0')) ztReject('Name', `${what} ${JSON.stringify(name.slice(0, 64))} contains U+0000`);
  const bytes = utf8Length(name);
  if (bytes > ZT_MAX_NAME_BYTES) ztReject('Name', `${what} is ${bytes} bytes, more than ${ZT_MAX_NAME_BYTES}`);
}

/** Shard names: 1-64 bytes of `[A-Za-z0-9._-]`, not starting with `.`; a label, never a path. */
export function ztCheckShardName(name: string): void {
  const bad = (why: string): never => ztReject('ShardName', `shard name ${JSON.stringify(name.slice(0, 80))} ${why}`);
  if (name.length === 0) bad('is empty');
  if (utf8Length(name) > ZT_MAX_SHARD_NAME_BYTES) bad(`is longer than ${ZT_MAX_SHARD_NAME_BYTES} bytes`);
  if (name.startsWith('.')) bad('starts with "."');
  const wrong = /[^A-Za-z0-9._-]/.exec(name);
  if (wrong) bad(`contains ${JSON.stringify(wrong[0])}; allowed: A-Z a-z 0-9 . _ -`);
}

/** Digest syntax: `<algo>:<hex>`, algo `[a-z0-9]+`, hex lowercase and non-empty. */
export function ztCheckDigestSyntax(digest: string): void {
  if (!/^[a-z0-9]+:[0-9a-f]+$/.test(digest)) ztReject('Schema', `digest ${JSON.stringify(digest.slice(0, 100))} must be "algo:lowercase-hex"`);
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}
