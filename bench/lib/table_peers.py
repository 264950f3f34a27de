"""table_peers.py - the table groups' Python peers (bench/tables.ts, bench/csv.ts), run by
peers.py's worker: pyarrow (Parquet, Feather; one thread, `use_threads=False`), pandas
(`read_csv` with the C engine, `DataFrame.to_csv`) and NumPy's text IO (`np.loadtxt`,
`np.savetxt`).

Why in the worker and not a fresh process per repetition (the harness before session 29):
starting a process forks the benchmark's node process, and a fork write-protects all of
its memory, so tensio's next in-process read faulted its reused scratch in again page by
page (bench/README.md, "tables"). In one long-lived process pyarrow also reads warm (its
Nth read), as tensio does in its own rounds.

The writers' sources are made once by `tables.load_source` (the group's .npy) and kept:
the array, and built on first use outside any timing, the pyarrow table of its 32
columns and the pandas DataFrame, as the old one-liners built them before their timers.
Each TIMED entry prepares what it needs untimed and returns the call to time.
"""

state = {}


def load_source(cmd):
    """Loads the group's table (.npy, float32 (rows, 32)); drops the previous group's."""
    import numpy as np
    import pyarrow
    state.clear()
    state["array"] = np.load(cmd["path"])
    return {"versions": {"pyarrow": pyarrow.__version__, "numpy": np.__version__}}


def drop(cmd):
    state.clear()
    return {}


def arrow_table():
    table = state.get("arrow")
    if table is None:
        import pyarrow as pa
        a = state["array"]
        table = state["arrow"] = pa.table({f"col{i}": a[:, i] for i in range(a.shape[1])})
    return table


def data_frame():
    frame = state.get("frame")
    if frame is None:
        import pandas as pd
        frame = state["frame"] = pd.DataFrame(state["array"])
    return frame


def write_default(cmd):
    """A Parquet file with pyarrow's defaults (snappy, dictionary pages falling back to PLAIN,
    one row group), of the table or (`random`) of random float32 of its shape. Untimed."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    a = state["array"]
    if cmd.get("random"):
        a = np.random.default_rng(1).random(a.shape, dtype=np.float32)
    pq.write_table(pa.table({f"col{i}": a[:, i] for i in range(a.shape[1])}), cmd["path"])
    return {}


def pq_read_table(cmd):
    import pyarrow.parquet as pq
    return lambda: pq.read_table(cmd["path"], use_threads=False)


def pq_read_table_stacked(cmd):
    """The like-for-like peer of tensio's stacked read: the same columnar read, then one (rows, 32) array."""
    import numpy as np
    import pyarrow.parquet as pq

    def read():
        table = pq.read_table(cmd["path"], use_threads=False)
        return np.column_stack([column.to_numpy() for column in table.columns])
    return read


def pq_write_table(cmd):
    import pyarrow.parquet as pq
    table = arrow_table()
    level = cmd.get("level")
    return lambda: pq.write_table(table, cmd["path"], compression=cmd["compression"], compression_level=level, row_group_size=100000)


def feather_read_table(cmd):
    import pyarrow.feather as feather
    return lambda: feather.read_table(cmd["path"], use_threads=False, memory_map=False)


def feather_write(cmd):
    import pyarrow.feather as feather
    table = arrow_table()
    return lambda: feather.write_feather(table, cmd["path"], compression=cmd["compression"])


def pandas_read_csv(round_trip):
    def prepare(cmd):
        import numpy as np
        import pandas as pd
        extra = {"float_precision": "round_trip"} if round_trip else {}
        return lambda: pd.read_csv(cmd["path"], header=None, dtype=np.float32, engine="c", **extra).to_numpy()
    return prepare


def np_loadtxt(cmd):
    import numpy as np
    return lambda: np.loadtxt(cmd["path"], delimiter=",", dtype=np.float32)


def np_savetxt(cmd):
    import numpy as np
    a = state["array"]
    return lambda: np.savetxt(cmd["path"], a, delimiter=",")


def to_csv(cmd):
    frame = data_frame()
    return lambda: frame.to_csv(cmd["path"], header=False, index=False)


# Untimed commands (peers.py's OPS) and timed ones (name -> prepare(cmd) -> the call to time).
OPS = {
    "tables.load_source": load_source,
    "tables.drop": drop,
    "tables.write_default": write_default,
}
TIMED = {
    "pq.read_table": pq_read_table,
    "pq.read_table+column_stack": pq_read_table_stacked,
    "pq.write_table": pq_write_table,
    "feather.read_table": feather_read_table,
    "feather.write_feather": feather_write,
    "pandas.read_csv": pandas_read_csv(False),
    "pandas.read_csv round_trip": pandas_read_csv(True),
    "np.loadtxt": np_loadtxt,
    "np.savetxt": np_savetxt,
    "DataFrame.to_csv": to_csv,
}
