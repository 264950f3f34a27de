/**
 * A safetensors file written by PyTorch (the oracle environment) with tensors of several
 * dtypes, and NumPy's statistics of each, for the statistics tests (Node and the web
 * inspector in Chromium): min/max/mean/std over the finite values, counts of zeros, NaN
 * and ±Inf, `np.histogram(finite.astype(np.float64), bins)`, and the first values.
 */
import { join } from 'node:path';
import { runPython } from './oracle.js';

/** NumPy's numbers for one tensor. */
export interface NumpyStats {
  dtype: string;
  shape: number[];
  count: number;
  finite: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  zeros: number;
  nan: number;
  posinf: number;
  neginf: number;
  edges: number[];
  counts: number[];
  first: Array<number | null>;
}

const SCRIPT = String.raw`
import json, sys, numpy as np, torch
from safetensors.torch import save_file
path, bins = sys.argv[1], int(sys.argv[2])
g = torch.Generator().manual_seed(14)
normal = torch.randn(64, 48, generator=g) * 3 + 0.5
normal[0, 5] = float('nan'); normal[3, 1] = float('inf'); normal[7, 7] = float('-inf'); normal[10, :6] = 0
tensors = {
  'normal': normal,
  'bf16': (torch.randn(1000, generator=g) * 100).to(torch.bfloat16),
  'f16': torch.linspace(-2, 2, 33 * 7).reshape(33, 7).to(torch.float16),
  'f8': (torch.randn(500, generator=g) * 4).to(torch.float8_e4m3fn),
  'i64': torch.randint(-1000, 1000, (300,), generator=g, dtype=torch.int64),
  'layer.0.attn.weight': torch.ones(8, 8),
  'layer.1.attn.weight': torch.full((8, 8), 2.0),
}
save_file(tensors, path)
out = {}
for name, t in tensors.items():
    a = t.to(torch.float64).numpy().ravel() if t.dtype != torch.int64 else t.numpy().astype(np.float64).ravel()
    f = a[np.isfinite(a)]
    counts, edges = np.histogram(f, bins=bins)
    out[name] = dict(dtype=str(t.dtype), shape=list(t.shape), count=int(a.size), finite=int(f.size),
        min=float(f.min()), max=float(f.max()), mean=float(f.mean()), std=float(f.std()),
        zeros=int((a == 0).sum()), nan=int(np.isnan(a).sum()), posinf=int(np.isposinf(a).sum()), neginf=int(np.isneginf(a).sum()),
        edges=[float(e) for e in edges], counts=[int(c) for c in counts],
        first=[None if np.isnan(v) else float(v) for v in a[:16]])
print(json.dumps(out))
`;

/** Writes `stats.safetensors` into `dir` with PyTorch and returns NumPy's statistics by tensor name. */
export function writeStatsFixture(dir: string, bins = 10): { path: string; expected: Record<string, NumpyStats> } {
  const path = join(dir, 'stats.safetensors');
  const { stdout } = runPython(SCRIPT, [path, String(bins)]);
  return { path, expected: JSON.parse(stdout) as Record<string, NumpyStats> };
}
