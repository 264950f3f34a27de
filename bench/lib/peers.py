"""peers.py - the Python peers of tensio's benchmarks, as a small worker process.

Started once per benchmark run by bench/lib/python.ts in the oracle python. It reads one
JSON command per line on stdin and answers one JSON line on stdout:

    {"op": "np.save", "path": "/tmp/x/a.npy"}  ->  {"ok": true, "seconds": 0.21}

Timing is done here with time.perf_counter around the library call only, so interpreter
start-up and `import torch` are in no figure. Sources (the arrays the writers save) are
loaded once by the `load_*` commands and kept in memory, so every save reads from
anonymous memory as tensio's writers do. The caller unlinks targets and runs `sync`
before each write; no write here calls fsync, as none of these libraries do. The table
groups' peers (pyarrow, pandas, NumPy text IO) are in table_peers.py, beside this file.
"""
import gc
import json
import mmap
import sys
import time

import table_peers

PAGE = mmap.PAGESIZE
state = {}


def touch_pages(u8):
    return int(u8[::PAGE].sum())


def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    del out
    gc.collect()
    return seconds


def op_versions(cmd):
    import numpy
    versions = {"python": sys.version.split()[0], "numpy": numpy.__version__}
    for name in ("torch", "safetensors"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    return {"versions": versions}


def op_load_safetensors_source(cmd):
    import ml_dtypes  # noqa: F401  registers numpy's bfloat16, which safetensors.numpy needs
    import safetensors.numpy as stn
    state["st_numpy"] = stn.load_file(cmd["path"])
    try:
        import safetensors.torch as stt
        state["st_torch"] = {k: v.clone() for k, v in stt.load_file(cmd["path"]).items()}
    except ImportError:
        state.pop("st_torch", None)
    return {}


def op_load_npy_source(cmd):
    import numpy as np
    state["npy"] = np.load(cmd["path"])
    return {}


def op_drop(cmd):
    for key in list(state):
        del state[key]
    gc.collect()
    return {}


def op_make_pt(cmd):
    """Writes the torch source state dict with torch.save: the real .pt file tensio reads."""
    import torch
    torch.save(state["st_torch"], cmd["path"])
    return {}


def op_run(cmd):
    name, path = cmd["op"], cmd.get("path")
    if name in table_peers.TIMED:
        return {"seconds": timed(table_peers.TIMED[name](cmd))}
    if name == "st.numpy.save_file":
        import safetensors.numpy as stn
        return {"seconds": timed(lambda: stn.save_file(state["st_numpy"], path))}
    if name == "st.numpy.load_file":
        import ml_dtypes  # noqa: F401
        import safetensors.numpy as stn
        return {"seconds": timed(lambda: stn.load_file(path))}
    if name == "st.torch.save_file":
        import safetensors.torch as stt
        return {"seconds": timed(lambda: stt.save_file(state["st_torch"], path))}
    if name == "st.torch.load_file_touch":
        import safetensors.torch as stt
        import torch

        def load():
            out = stt.load_file(path)
            for t in out.values():
                touch_pages(t.view(torch.uint8).numpy())
            return out
        return {"seconds": timed(load)}
    if name == "np.save":
        import numpy as np
        return {"seconds": timed(lambda: np.save(path, state["npy"]))}
    if name == "np.load":
        import numpy as np
        return {"seconds": timed(lambda: np.load(path))}
    if name == "np.load_npz_member":
        # np.load of an .npz is lazy: indexing the key inflates the member (zipfile, whole).
        import numpy as np

        def load():
            with np.load(path) as archive:
                return archive[cmd["key"]]
        return {"seconds": timed(load)}
    if name == "np.load_back_to_back":
        # numpy's hot loop: `count` loads in a row, freed memory reused at once (huge pages
        # stay warm); the median of all but the first is returned.
        import numpy as np
        samples = [timed(lambda: np.load(path)) for _ in range(int(cmd.get("count", 3)))]
        steady = sorted(samples[1:] or samples)
        return {"seconds": steady[len(steady) // 2]}
    if name == "torch.save":
        import torch
        return {"seconds": timed(lambda: torch.save(state["st_torch"], path))}
    if name == "torch.load":
        import torch
        return {"seconds": timed(lambda: torch.load(path, map_location="cpu"))}
    if name == "torch.load_mmap_touch":
        import torch

        def load():
            out = torch.load(path, map_location="cpu", mmap=True)
            for t in out.values():
                touch_pages(t.contiguous().view(torch.uint8).numpy())
            return out
        return {"seconds": timed(load)}
    if name == "mmap.sum_kernel":
        # numpy's reduction alone over a hot in-memory buffer (the kernel table of bench/mmap.ts).
        import numpy as np
        size = int(cmd["bytes"])
        buffer = state.get("sum_kernel")
        if buffer is None or len(buffer) != size:
            buffer = state["sum_kernel"] = np.ones(size, np.uint8)
        sum_f64(buffer)
        return {"seconds": timed(lambda: sum_f64(buffer))}
    if name.startswith("mmap."):
        return {"seconds": timed(lambda: mmap_group_load(name, path, bool(cmd.get("sum"))))}
    raise ValueError(f"unknown op {name}")


def sum_f64(u8):
    """The fair "touch every byte" of the mmap bench: sum the bytes as float64 words (as bench/lib/sum.ts does).

    numpy's add.reduce is a pairwise sum with eight accumulators, vectorised with SIMD."""
    import numpy as np
    usable = len(u8) // 8 * 8
    return float(np.add.reduce(u8[:usable].view(np.float64))) if usable else 0.0


def torch_bytes(t):
    import torch
    return t.contiguous().view(-1).view(torch.uint8).numpy()


def mmap_group_load(name, path, summed):
    """The loaders of bench/mmap.ts (`mmap.<loader>`); with `summed` every array's bytes are summed too."""
    import numpy as np
    kind = name[len("mmap."):]
    if kind == "st.numpy.load_file":
        import ml_dtypes  # noqa: F401
        import safetensors.numpy as stn
        arrays = list(stn.load_file(path).values())
        views = [a.reshape(-1).view(np.uint8) for a in arrays]
    elif kind == "st.safe_open":
        from safetensors import safe_open
        try:
            import torch  # noqa: F401
            framework = "pt"
        except ImportError:
            framework = "np"
        with safe_open(path, framework=framework) as handle:
            arrays = [handle.get_tensor(key) for key in handle.keys()]
        views = [torch_bytes(a) if framework == "pt" else a.reshape(-1).view(np.uint8) for a in arrays]
    elif kind in ("torch.load", "torch.load_mmap"):
        import torch
        state = torch.load(path, map_location="cpu", mmap=(kind == "torch.load_mmap"))
        arrays = list(state.values())
        views = [torch_bytes(a) for a in arrays] if summed else []
    elif kind in ("np.load", "np.load_mmap"):
        array = np.load(path, mmap_mode="r" if kind == "np.load_mmap" else None)
        arrays = [array]
        views = [array.reshape(-1).view(np.uint8)] if summed else []
    else:
        raise ValueError(f"unknown op {name}")
    if summed:
        for view in views:
            sum_f64(view)
    return arrays


OPS = {
    "versions": op_versions,
    "load_safetensors_source": op_load_safetensors_source,
    "load_npy_source": op_load_npy_source,
    "drop": op_drop,
    "make_pt": op_make_pt,
    **table_peers.OPS,
}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            answer = OPS.get(cmd["op"], op_run)(cmd)
            answer["ok"] = True
        except Exception as error:  # reported to the caller, which prints it as a skip reason
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
