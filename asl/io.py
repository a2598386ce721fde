"""Atomic output writing: a temporary name in the same folder, then a rename, so no half file is ever trusted.

A temporary is named `.<name>.tmp-<pid>` (ignored by git). One left by a killed run is removed the next time
the same output is written, so interrupted stages do not pile up temporaries (2.3 GB each for the full data).
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pandas as pd


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it onto `path`, on error remove it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporaries (files or folders) of `path` whose process is gone (an interrupted run's)."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.tmp-(\d+)(\..*)?")
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.tmp-*"):
        found = pattern.fullmatch(leftover.name)
        if found and (int(found[1]) == os.getpid() or not _process_alive(int(found[1]))):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def write_json(data: Any, path: str | Path) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    with atomic_path(path) as temporary:
        table.to_csv(temporary, index=False)
