/**
 * Python snippets the safetensors interop tests run in the oracle environment.
 */

/**
 * Prints JSON `{metadata, tensors: {name: {dtype, shape, hex}}}` for each safetensors
 * file given, as the reference `safe_open(..., 'pt')` sees it. `hex` is the tensor's raw
 * little-endian bytes, or null when torch has no dtype for it (F6).
 */
export const PYTHON_DUMP_SAFETENSORS = `
import json, sys, zlib, torch
from safetensors import safe_open

def raw(t):
    t = t.contiguous().reshape(-1)
    if t.is_complex():
        t = torch.view_as_real(t).reshape(-1)
    return t.view(torch.uint8).numpy().tobytes()

out = {}
for path in sys.argv[1:]:
    with safe_open(path, 'pt') as f:
        tensors = {}
        for k in f.keys():
            s = f.get_slice(k)
            entry = {'dtype': s.get_dtype(), 'shape': list(s.get_shape()), 'hex': None, 'crc32': None}
            try:
                data = raw(f.get_tensor(k))
                entry['hex'] = data.hex()
                entry['crc32'] = format(zlib.crc32(data), '08x')
            except Exception:
                pass
            tensors[k] = entry
        out[path] = {'metadata': f.metadata(), 'tensors': tensors}
print(json.dumps(out))
`;
