"""Preprocessing throughput against its floor: pyarrow alone reading the same columns of the same files.

Usage: python benchmarks/preprocess.py [--raw-dir ../shared/data/gislr-sample] [--repeats 5]
Times exactly the preprocess stage's call (`preprocess_dataset`) on the recordings `clean` finds usable, in one process and
with `data.workers` processes, and the floor: pyarrow reading the coordinates of every file (the columns preprocessing
reads; `ParquetFile.read`, its leanest path), in one process. Prints one figure per line (medians of the repeats), the ratios last, the
store's size (frames, on disk, in memory once paged in: values plus its metadata table) and the peak resident memory of
this process and of its worker processes.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import typer
from figures import JSON_OPTION, Figures

from asl.data.clean import scan_recordings
from asl.data.preprocess import open_store, preprocess_dataset
from asl.data.raw import read_index, read_sign_map
from asl.params import load_params

app = typer.Typer(add_completion=False)


def median_seconds(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@app.command()
def main(raw_dir: Path = Path("../shared/data/gislr-sample"), params: Path = Path("params.yaml"),
         repeats: int = 5, passes: int = 1, json: Path = JSON_OPTION) -> None:
    """`passes` > 1 lists every kept file that many times (for both sides), so fixed costs such as starting the
    worker processes weigh as they would on a full download instead of on 220 small files."""
    figures = Figures(json)  # before any work: the load average at the start
    config = load_params(params)
    coordinates = tuple(config.data.coordinates)
    recordings = scan_recordings(read_index(raw_dir), raw_dir, read_sign_map(raw_dir), coordinates,
                                 config.data.workers).recordings
    kept = recordings[recordings["problem"] == ""].reset_index(drop=True)
    kept = pd.concat([kept] * passes, ignore_index=True)
    sign_map = read_sign_map(raw_dir)
    paths = [raw_dir / relative for relative in kept["path"]]

    def read_floor() -> None:
        for path in paths:
            pq.ParquetFile(path).read(columns=list(coordinates), use_threads=False)  # pyarrow's leanest read

    out = Path(tempfile.mkdtemp()) / "values.npy"

    def preprocess(workers: int):
        return lambda: preprocess_dataset(kept, raw_dir, sign_map, config.preprocess, coordinates, workers, out)

    floor = median_seconds(read_floor, repeats)
    one = median_seconds(preprocess(1), repeats)
    parallel = median_seconds(preprocess(config.data.workers), repeats)
    meta = preprocess(1)()
    store = open_store(out, meta)
    disk, memory = out.stat().st_size, store.values.nbytes + meta.memory_usage(deep=True).sum()
    del store
    shutil.rmtree(out.parent)
    workers = config.data.workers
    figures.line("sequences", len(paths))
    figures.line("pyarrow_read_floor_sequences_per_s", len(paths) / floor, ".0f")
    figures.line("preprocess_sequences_per_s_1_worker", len(paths) / one, ".0f")
    figures.line(f"preprocess_sequences_per_s_{workers}_workers", len(paths) / parallel, ".0f")
    figures.line("preprocess_1_worker_over_floor", one / floor, ".2f")
    figures.line(f"preprocess_{workers}_workers_over_floor", parallel / floor, ".2f")
    figures.line("store_frames", len(meta) and int(meta["length"].sum()))
    figures.line("store_groups", f"{len(config.preprocess.landmarks)} ({config.preprocess.dtype})")
    figures.line("store_disk_mb", disk / 2**20, ".2f")
    figures.line("store_memory_mb", memory / 2**20, ".2f")
    figures.line("peak_rss_mb_main", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, ".0f")
    figures.line("peak_rss_mb_largest_worker", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, ".0f")
    figures.write()

if __name__ == "__main__":
    app()
