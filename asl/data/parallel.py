"""Running a function over many files in worker processes, in order, with a progress bar; files read ahead by
threads, so that a cold disk's latency hides behind the parsing."""

from __future__ import annotations

import collections
import ctypes
import functools
import gc
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import TypeVar

from asl.progress import Progress

T = TypeVar("T")
R = TypeVar("R")
PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h): the signal a process gets when its parent dies
M_ARENA_MAX = -8  # mallopt option (glibc malloc.h): the most arenas malloc makes
#: malloc arenas of a process that reads files: with glibc's default (8 per core) a stage's memory grew with the number
#: of files it read (docs/benchmarks.md, "Scale").
MALLOC_ARENAS = 2
#: Files a worker has read, or is reading, ahead of the one it parses: that many reads in flight per worker (threads;
#: the GIL is released while they wait), and at most that many files' read results held per worker.
READ_AHEAD = 16
#: Files a worker takes at once: its read-ahead starts anew with each chunk, so a chunk waits for one file's read.
FILE_CHUNK = 64


def map_in_order(function: Callable[[T], R], items: Iterable[T], total: int, workers: int, description: str,
                 chunk_size: int = 16) -> Iterator[R]:
    """Yield `function(item)` for each item, in input order; `workers` > 1 uses that many processes.

    Results stream out as they are ready, so callers can write them away without holding them all.
    """
    progress = Progress(total, description, "files")
    try:
        for result in _imap(function, items, workers, chunk_size):
            yield result
            progress.update()
    finally:
        progress.close()


def map_files_in_order(function: Callable[..., R], paths: list[Path], read: Callable[[Path], object],
                       workers: int, description: str, chunk_size: int = FILE_CHUNK,
                       read_ahead: int = READ_AHEAD) -> Iterator[R]:
    """Yield `function(path, ahead=...)` for each file, in order, `ahead` being the future of `read(path)` (its
    `result()` raises what `read` raised); as `map_in_order`, but each worker reads `read_ahead` files ahead of the one
    it parses, in threads, so many reads are in flight whatever the number of workers."""
    chunks = [paths[start:start + chunk_size] for start in range(0, len(paths), chunk_size)]
    progress = Progress(len(paths), description, "files")
    try:
        for results in _imap(functools.partial(_map_chunk, function, read, read_ahead), chunks, workers, 1):
            yield from results
            progress.update(len(results))
    finally:
        progress.close()


def _map_chunk(function: Callable[..., R], read: Callable[[Path], object], read_ahead: int,
               paths: list[Path]) -> list[R]:
    return [function(path, ahead=ahead) for path, ahead in read_files_ahead(paths, read, read_ahead)]


def read_files_ahead(paths: Iterable[Path], read: Callable[[Path], object],
                     window: int) -> Iterator[tuple[Path, Future]]:
    """Each path with the future of `read(path)`, in order, read by `window` threads: at most `window` files read or
    being read ahead of the caller."""
    with ThreadPoolExecutor(window) as pool:
        pending: collections.deque = collections.deque()
        for path in paths:
            pending.append((path, pool.submit(read, path)))
            if len(pending) == window:
                yield pending.popleft()
        yield from pending


def _imap(function: Callable[[T], R], items: Iterable[T], workers: int, chunk_size: int) -> Iterator[R]:
    """`function` over `items` in input order, in `workers` processes when more than one."""
    if workers <= 1:
        yield from map(function, items)
        return
    limit_malloc_arenas()
    # fork: workers start in milliseconds instead of re-importing numpy, pandas and pyarrow. Pages stay shared with
    # the parent until either side writes to them; a collection writes to every object it visits, so the objects that
    # exist at the fork stay out of all collections (the workers' and the parent's) while the pool lives.
    gc.freeze()
    try:
        with get_context("fork").Pool(workers, initializer=exit_with_parent, initargs=(os.getpid(),)) as pool:
            yield from pool.imap(function, items, chunksize=chunk_size)
    finally:
        gc.unfreeze()


def limit_malloc_arenas() -> None:
    """Cap glibc's malloc at `MALLOC_ARENAS` arenas in this process and those it forks, when it has not made more.

    By default every thread that allocates may get an arena of its own (up to 8 per core), and each arena keeps
    what was freed in it: a worker whose read-ahead threads come and go grows with the files it reads. Other C
    libraries have no such option; this does nothing there.
    """
    if sys.platform.startswith("linux"):
        mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
        if mallopt is not None:
            mallopt(M_ARENA_MAX, MALLOC_ARENAS)


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
