/**
 * Checkpoints written by real torch for read tests: a Python script saves them and, beside
 * each, the expected contiguous bytes of every tensor (`<file>.<name>.raw`) and a manifest
 * (`<file>.json`: name → dtype, shape).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { DType, TensorReader } from '../../src/index.js';

/** Python (any torch ≥ 1.10) that writes the fixture files into argv[1]; prints their names. */
export const TORCH_FIXTURE_SCRIPT = String.raw`
import json, os, sys, torch
out = sys.argv[1]
torch.manual_seed(0)
made = []
def raw(t):
    t = t.detach().reshape(-1).contiguous()
    return t.view(torch.uint8).numpy().tobytes() if t.numel() else b''
def dump(name, obj, tensors, **kw):
    torch.save(obj, os.path.join(out, name), **kw)
    man = {}
    for k, t in tensors.items():
        with open(os.path.join(out, name + '.' + k + '.raw'), 'wb') as f:
            f.write(raw(t))
        man[k] = {'dtype': str(t.dtype).replace('torch.', ''), 'shape': list(t.shape)}
    with open(os.path.join(out, name + '.json'), 'w') as f:
        json.dump(man, f)
    made.append(name)

base = torch.randn(3, 4)
names = ['float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool',
         'complex64', 'complex128', 'float8_e4m3fn', 'float8_e5m2', 'uint16', 'uint32', 'uint64']
dtypes = {}
for n in names:
    if not hasattr(torch, n):
        continue
    dt = getattr(torch, n)
    if n == 'bool':
        t = base > 0
    elif n.startswith('complex'):
        t = torch.complex(base, -base).to(dt)
    elif n.startswith('float') or n == 'bfloat16':
        t = (base * 10).to(dt)
    else:
        t = torch.randint(0, 100, (3, 4)).to(dt)
    dtypes[n] = t
dump('dtypes.pt', dtypes, dtypes)

m = torch.arange(24, dtype=torch.float32).reshape(4, 6)
views = {'base': m, 't': m.t(), 'slice': m[1:3, 2:5], 'col': m[:, 1], 'step': m[::2, ::3],
         'flat_offset': m.view(-1)[5:11], 'expand': torch.arange(3.).expand(4, 3),
         'bf16_t': torch.randn(5, 7).to(torch.bfloat16).t(), 'c64_t': torch.complex(torch.randn(2, 3), torch.randn(2, 3)).t(),
         'perm': torch.arange(60, dtype=torch.int64).reshape(3, 4, 5).permute(2, 0, 1),
         'bool_t': (torch.randn(3, 5) > 0).t()}
dump('views.pt', views, views)

emb = torch.nn.Embedding(10, 4)
head = torch.nn.Linear(4, 10, bias=False)
head.weight = emb.weight
model = torch.nn.ModuleDict({'emb': emb, 'head': head})
sd = model.state_dict()
dump('tied.pt', sd, dict(sd))

net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
opt = torch.optim.Adam(net.parameters(), lr=0.001)
net(torch.randn(5, 3)).sum().backward()
opt.step()
ckpt = {'state_dict': net.state_dict(), 'epoch': 3, 'optimizer': opt.state_dict(), 'name': 'run1',
        'best': {'loss': 0.5, 'flags': [True, None]}, 'param': torch.nn.Parameter(torch.randn(2, 2))}
flat = {'state_dict.' + k: v for k, v in net.state_dict().items()}
for pid, state in opt.state_dict()['state'].items():
    for k, v in state.items():
        if torch.is_tensor(v):
            flat['optimizer.state.%d.%s' % (pid, k)] = v
flat['param'] = ckpt['param']
dump('nested.pt', ckpt, flat)

legacy = {'w': torch.randn(3, 5), 'i': torch.arange(7), 'wt': torch.randn(4, 2).t(), 'h': torch.randn(6).half()[1:4]}
dump('legacy.pt', legacy, legacy, _use_new_zipfile_serialization=False)

empty = {'e': torch.empty(0, 3), 'scalar': torch.tensor(5.5), 'e3': torch.zeros(3, 0, 2, dtype=torch.int32), 'one': torch.tensor([7])}
dump('empty.pt', empty, empty)

bare = torch.arange(5, dtype=torch.int16)
dump('bare.pt', bare, {'tensor': bare})
print(json.dumps(made))
`;

/** tensio dtype for a torch dtype name as `str(dtype)` prints it. */
export function tensioDtypeOfTorch(name: string): DType {
  return (name === 'float8_e8m0fnu' ? 'float8_e8m0' : name) as DType;
}

/** Asserts that every tensor of a fixture's manifest reads back with its dtype, shape and bytes. */
export async function assertMatchesFixture(reader: TensorReader, dir: string, file: string, prefix = ''): Promise<number> {
  const manifest = JSON.parse(await readFile(join(dir, `${file}.json`), 'utf8')) as Record<string, { dtype: string; shape: number[] }>;
  let checked = 0;
  for (const [name, expected] of Object.entries(manifest)) {
    const info = reader.info(prefix + name);
    assert.equal(info.dtype, tensioDtypeOfTorch(expected.dtype), `${file} ${name} dtype`);
    assert.deepEqual([...info.shape], expected.shape, `${file} ${name} shape`);
    const tensor = await reader.read(prefix + name);
    const raw = await readFile(join(dir, `${file}.${name}.raw`));
    assert.ok(Buffer.from(tensor.data).equals(raw), `${file} ${name}: bytes differ`);
    // The streamed bytes must agree with read().
    const chunks: Buffer[] = [];
    for await (const chunk of reader.stream(prefix + name, { chunkBytes: 7 })) chunks.push(Buffer.from(chunk));
    assert.ok(Buffer.concat(chunks).equals(raw), `${file} ${name}: streamed bytes differ`);
    checked++;
  }
  return checked;
}
