"""Throughput of the preprocess stage's own call (`preprocess_dataset`), by number of worker processes.

Usage: python benchmarks/preprocess.py [--raw-dir data/raw/sample] [--repeats 3]
Prints one figure per line: sequences per second for 1 and 2 workers (median of repeats) and their ratio,
and the parent process's peak memory, which must not grow with the dataset (results stream to disk).
"""

from __future__ import annotations

import resource
import statistics
import tempfile
import time
from pathlib import Path

import typer

from asl.data.preprocess import preprocess_dataset
from asl.data.raw import read_index, read_sign_map
from asl.params import load_params

app = typer.Typer(add_completion=False)


@app.command()
def main(raw_dir: Path = Path("data/raw/sample"), params: Path = Path("params.yaml"), repeats: int = 3) -> None:
    config = load_params(params)
    index, sign_map = read_index(raw_dir), read_sign_map(raw_dir)
    rates = {}
    for workers in (1, 2):
        seconds = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as out:
                start = time.perf_counter()
                preprocess_dataset(index, raw_dir, sign_map, config.preprocess, tuple(config.data.coordinates),
                                   workers, Path(out) / "values.npy")
                seconds.append(time.perf_counter() - start)
        rates[workers] = len(index) / statistics.median(seconds)
        print(f"preprocess_sequences_per_s_workers_{workers}: {rates[workers]:.1f}")
    print(f"preprocess_speedup_2_vs_1_workers: {rates[2] / rates[1]:.2f}")
    print(f"parent_peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    app()
