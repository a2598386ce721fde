"""Extra raw-layout datasets (`data.extra_raw_dirs`, e.g. landmarks extracted from videos) added to training.

Their rows join the main index with paths made relative to the main raw folder (so `raw_dir / path` finds them)
and participant ids prefixed `extra:<folder name>:`, which keeps each source distinct and tells the splits to put
them in `train` only: they are never validation or test data.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from asl.data.raw import read_index
from asl.errors import AslError

EXTRA_PREFIX = "extra:"


def is_extra(participants) -> np.ndarray:
    """True for the participant ids that come from an extra dataset."""
    return np.array([str(p).startswith(EXTRA_PREFIX) for p in participants], dtype=bool)


def read_training_index(raw_dir: str | Path, extra_raw_dirs: list[str] | tuple[str, ...] = ()) -> pd.DataFrame:
    """The main index followed by the rows of each extra dataset (signs are checked by `clean`: `unknown_sign`)."""
    raw_dir = Path(raw_dir)
    index = read_index(raw_dir)
    names = [Path(extra).resolve().name for extra in extra_raw_dirs]
    if len(set(names)) != len(names):
        raise AslError(f"data.extra_raw_dirs: folder names must differ (they name the sources), got {names}")
    tables = [index]
    for extra, name in zip(map(Path, extra_raw_dirs), names):
        if extra.resolve() == raw_dir.resolve():
            raise AslError(f"data.extra_raw_dirs: {extra} is data.raw_dir itself")
        extra_index = read_index(extra)
        tables.append(extra_index.assign(
            path=[os.path.relpath(extra / path, raw_dir) for path in extra_index["path"]],
            participant_id=[f"{EXTRA_PREFIX}{name}:{p}" for p in extra_index["participant_id"]],
        ))
    return pd.concat(tables, ignore_index=True)
