/**
 * Large inputs the formats allow, opened at a cost in proportion (issue 16, regressions
 * 9, 11 and 12): tensio against the reference readers on the same files, time and peak
 * RSS of opening (headers only, no tensor data).
 *
 * - pytorch: N tensors that are views of one storage (as optimizer states and
 *   flattened parameters are), written by `torch.save`; reference `torch.load(weights_only=True)`.
 * - safetensors: a header of N one-byte tensors (1.44 M fill the 100 MB header limit);
 *   reference: the Rust `safetensors.safe_open` listing its keys.
 * - npz: N one-element members (1,000,000: the `ZIP_MAX_ENTRIES` limit); reference for
 *   the open: Python `zipfile` opening every member and reading its `.npy` header (what
 *   tensio's open does); for verify: `zipfile.testzip()` (every member read, CRC checked).
 *
 * tensio runs in a child (bench/child.ts `open` or `verify`), so its peak RSS is the
 * operation's own. `TENSIO_BENCH_BOUNDS=npz` (a comma list of kinds) runs only those rows.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './lib/context.js';
import { measureChildRss } from './lib/rss.js';
import type { BenchRow } from './lib/types.js';

const MiB = 2 ** 20;

/** Python that writes one input: argv = kind, n, path. */
const MAKE = String.raw`
import sys, struct, io, zipfile
kind, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == 'pytorch':
    import torch
    base = torch.zeros(n)
    torch.save({'t%d' % i: base[i:i + 1] for i in range(n)}, path)
elif kind == 'safetensors':
    parts = ['"t%d":{"dtype":"U8","shape":[1],"data_offsets":[%d,%d]}' % (i, i, i + 1) for i in range(n)]
    header = ('{' + ','.join(parts) + '}').encode()
    header += b' ' * ((8 - len(header) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(header))); f.write(header); f.write(bytes(n))
elif kind == 'npz':
    import numpy as np
    buf = io.BytesIO(); np.save(buf, np.zeros(1, dtype='u1')); member = buf.getvalue()
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as z:
        for i in range(n): z.writestr('a%d.npy' % i, member)
`;

/** Python that opens one input the reference way and prints `seconds peakMiB` (peak above the start). */
const REFERENCE = String.raw`
import sys, time, resource
kind, path = sys.argv[1], sys.argv[2]
if kind == 'pytorch': import torch
if kind == 'safetensors': from safetensors import safe_open
if kind.startswith('npz'):
    import zipfile
    from numpy.lib import format as fmt
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if kind == 'pytorch':
    n = len(torch.load(path, weights_only=True))
elif kind == 'safetensors':
    with safe_open(path, 'np') as f: n = len(list(f.keys()))
elif kind == 'npz-verify':
    with zipfile.ZipFile(path) as z:
        bad = z.testzip(); n = len(z.infolist())
    assert bad is None, bad
else:
    n = 0
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            with z.open(info) as f:
                version = fmt.read_magic(f)
                (fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0)(f); n += 1
seconds = time.perf_counter() - t
print(seconds, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, n)
`;

interface Case {
  kind: 'pytorch' | 'safetensors' | 'npz';
  /** What is measured: opening (headers only) or a full verify. */
  op: 'open' | 'verify';
  n: number;
  what: string;
  reference: string;
  file: string;
}

/**
 * Runs the bounded-cost benchmark rows (needs the oracle python for its inputs).
 *
 * @example
 * ```ts
 * const rows = await runBoundsBench(context);
 * ```
 */
export async function runBoundsBench(context: BenchContext): Promise<BenchRow[]> {
  const { dir, log, python, quick } = context;
  if (!python) return [{ format: 'bounds', operation: 'all', unit: 'ms', note: `skipped: the inputs are written by the oracle python (${context.peersReason})` }];
  const cases: Case[] = [
    { kind: 'pytorch', op: 'open', n: quick ? 2_000 : 20_000, what: 'views of one storage (torch.save)', reference: 'torch.load', file: '' },
    { kind: 'pytorch', op: 'open', n: quick ? 20_000 : 200_000, what: 'views of one storage (torch.save)', reference: 'torch.load', file: '' },
    { kind: 'safetensors', op: 'open', n: quick ? 20_000 : 1_440_000, what: 'tensors in one header', reference: 'Rust safe_open', file: '' },
    { kind: 'npz', op: 'open', n: quick ? 5_000 : 200_000, what: 'one-element members', reference: 'zipfile + .npy headers', file: '' },
    { kind: 'npz', op: 'open', n: quick ? 5_000 : 1_000_000, what: 'one-element members', reference: 'zipfile + .npy headers', file: '' },
    { kind: 'npz', op: 'verify', n: quick ? 5_000 : 1_000_000, what: 'one-element members', reference: 'zipfile testzip()', file: '' },
  ].filter((item) => !process.env.TENSIO_BENCH_BOUNDS || process.env.TENSIO_BENCH_BOUNDS.split(',').includes(item.kind)) as Case[];
  const rows: BenchRow[] = [];
  for (const item of cases) {
    item.file = join(dir, `bounds-${item.kind}-${item.n}.${item.kind === 'pytorch' ? 'pt' : item.kind}`);
    const label = `${item.op} ${item.n.toLocaleString('en-US')} ${item.what}`;
    // The same input serves several rows (open, then verify): written once.
    const made = existsSync(item.file) ? { status: 0, stderr: '' } : spawnSync(python, ['-c', MAKE, item.kind, String(item.n), item.file], { encoding: 'utf8' });
    if (made.status !== 0) {
      rows.push({ format: 'bounds', operation: label, unit: 'ms', note: `skipped: could not write the input: ${made.stderr.trim().split('\n').pop()}` });
      continue;
    }
    const ref = spawnSync(python, ['-c', REFERENCE, item.op === 'verify' ? `${item.kind}-verify` : item.kind, item.file], { encoding: 'utf8', maxBuffer: 2 ** 26 });
    const [refSeconds, refMiB] = ref.status === 0 ? ref.stdout.trim().split(' ').map(Number) : [undefined, undefined];
    try {
      const report = await measureChildRss(item.op, [item.file]);
      const ms = report.seconds * 1000;
      const mib = report.aboveBaselineBytes / MiB;
      const refMs = refSeconds === undefined ? undefined : refSeconds * 1000;
      log(`  bounds ${label}: tensio ${ms.toFixed(0)} ms +${mib.toFixed(0)} MiB; ${item.reference} ${refMs?.toFixed(0) ?? '?'} ms +${refMiB?.toFixed(0) ?? '?'} MiB`);
      rows.push({
        format: `bounds ${item.kind}`, operation: `${label}: time`, unit: 'ms', tensio: ms,
        ...(refMs !== undefined ? { baseline: refMs, baselineName: item.reference, ratio: ms / refMs, goal: '<= 3x ref', met: ms <= 3 * refMs } : { note: `reference failed: ${ref.stderr.trim().split('\n').pop()}` }),
      });
      rows.push({
        format: `bounds ${item.kind}`, operation: `${label}: peak RSS above baseline`, unit: 'MiB', tensio: mib,
        ...(refMiB !== undefined ? { baseline: refMiB, baselineName: item.reference, ratio: mib / Math.max(refMiB, 1), goal: '<= 3x ref', met: mib <= 3 * Math.max(refMiB, 1) } : {}),
      });
    } catch (error) {
      rows.push({ format: 'bounds', operation: label, unit: 'ms', note: `failed: ${(error as Error).message}` });
    }
  }
  return rows;
}
