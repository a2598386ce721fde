"""Running a function over many files in worker processes, in order, with a progress bar."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from multiprocessing import get_context
from typing import TypeVar

from asl.progress import Progress

T = TypeVar("T")
R = TypeVar("R")
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): the signal a process gets when its parent dies


def map_in_order(function: Callable[[T], R], items: Iterable[T], total: int, workers: int, description: str,
                 chunk_size: int = 16) -> Iterator[R]:
    """Yield `function(item)` for each item, in input order; `workers` > 1 uses that many processes.

    Results stream out as they are ready, so callers can write them away without holding them all.
    """
    progress = Progress(total, description, "files")
    try:
        if workers <= 1:
            for item in items:
                yield function(item)
                progress.update()
            return
        # fork: workers start in milliseconds instead of re-importing numpy, pandas and pyarrow
        with get_context("fork").Pool(workers, initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
            for result in pool.imap(function, items, chunksize=chunk_size):
                yield result
                progress.update()
    finally:
        progress.close()


def exit_with_parent(parent: int) -> None:
    """Pool initializer: a worker leaves Ctrl-C to its parent (which stops the pool) and dies with it, so a killed
    stage leaves neither stray workers nor their `BrokenPipeError` tracebacks."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(0)


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
