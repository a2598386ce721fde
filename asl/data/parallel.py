"""Running a function over many files in worker processes, in order, with a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from multiprocessing import get_context
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")
R = TypeVar("R")


def map_in_order(function: Callable[[T], R], items: Iterable[T], total: int, workers: int, description: str,
                 chunk_size: int = 16) -> Iterator[R]:
    """Yield `function(item)` for each item, in input order; `workers` > 1 uses that many processes.

    Results stream out as they are ready, so callers can write them away without holding them all.
    """
    progress = tqdm(total=total, desc=description, unit="seq", mininterval=1.0)
    try:
        if workers <= 1:
            for item in items:
                yield function(item)
                progress.update()
            return
        # fork: workers start in milliseconds instead of re-importing numpy, pandas and pyarrow
        with get_context("fork").Pool(workers) as pool:
            for result in pool.imap(function, items, chunksize=chunk_size):
                yield result
                progress.update()
    finally:
        progress.close()
