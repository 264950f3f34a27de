/**
 * Reference readers for Zarr tests: Debian's zarr-python 2.13 (v2 stores; `/usr/bin/python3`)
 * and zarrita (v3 stores, in-process). Both give, per array, its shape, dtype and the
 * sha256 of its little-endian C-order bytes.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';

let reason: string | false | undefined;

/** A skip reason when Debian's python3-zarr is missing, else false. */
export function debianZarrSkip(): string | false {
  if (reason === undefined) {
    const result = spawnSync('/usr/bin/python3', ['-c', 'import zarr, numcodecs'], { encoding: 'utf8', timeout: 60_000 });
    reason = result.status === 0 ? false : `skipped: Debian python3-zarr not installed (/usr/bin/python3 -c "import zarr" failed: ${(result.stderr ?? String(result.error)).trim().split('\n').pop()})`;
  }
  return reason;
}

/** What a reference reader reports for one array. */
export interface ReferenceArray {
  shape: number[];
  dtype: string;
  sha256: string;
  /** Set when the reference itself cannot read the array (old numcodecs lacking a codec option). */
  error?: string;
}

const WALK = `
import sys, json, hashlib, zarr, numpy as np
path = sys.argv[1]
root = zarr.open(zarr.ZipStore(path, mode='r') if path.endswith('.zip') else path, mode='r')
out = {}
def visit(name, node):
    if not isinstance(node, zarr.Array): return
    if node.dtype.kind not in 'biufc': return
    try:
        data = np.array(node[...], order='C')
    except Exception as error:
        out[name] = {'error': type(error).__name__ + ': ' + str(error)}
        return
    data = np.array(node[...], order='C').astype(node.dtype.newbyteorder('<'))
    out[name] = {'shape': list(data.shape), 'dtype': node.dtype.newbyteorder('<').str, 'sha256': hashlib.sha256(data.tobytes()).hexdigest()}
if isinstance(root, zarr.Array):
    visit('', root)
else:
    def walk(group, prefix):
        for key in sorted(group.array_keys()):
            try:
                visit(prefix + key, group[key])
            except Exception as error:
                out[prefix + key] = {'error': type(error).__name__ + ': ' + str(error)}
        for key in sorted(group.group_keys()):
            walk(group[key], prefix + key + '/')
    walk(root, '')
print(json.dumps(out))
`;

/** Every numeric array of a v2 store as Debian's zarr 2.13 reads it, by path. */
export function debianZarrRead(path: string): Record<string, ReferenceArray> {
  const result = spawnSync('/usr/bin/python3', ['-c', WALK, path], { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0) throw new Error(`Debian zarr failed on ${path}:\n${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, ReferenceArray>;
}

/** sha256 of bytes, hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** C-order bytes of a zarrita chunk `{ data, shape, stride }` (zarrita may hand back F-strided data). */
export function zarritaCOrderBytes(chunk: { data: ArrayLike<unknown> & { BYTES_PER_ELEMENT?: number; buffer?: ArrayBufferLike; byteOffset?: number; byteLength?: number }; shape: number[]; stride: number[] }): Uint8Array {
  const { data, shape, stride } = chunk;
  const size = data.BYTES_PER_ELEMENT ?? 1;
  const source = data.buffer ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : Uint8Array.from(data as ArrayLike<number>);
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(count * size);
  const index = new Array<number>(shape.length).fill(0);
  for (let at = 0; at < count; at += 1) {
    const from = index.reduce((sum, i, axis) => sum + i * stride[axis]!, 0);
    out.set(source.subarray(from * size, from * size + size), at * size);
    for (let axis = shape.length - 1; axis >= 0; axis -= 1) {
      index[axis]! += 1;
      if (index[axis]! < shape[axis]!) break;
      index[axis] = 0;
    }
  }
  return out;
}
