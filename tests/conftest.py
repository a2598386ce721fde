"""Shared fixtures: the real data in ../shared (required in CI), and small raw datasets written on the fly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _shared(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("ASL_REQUIRE_SHARED"):
            pytest.fail(f"{path} is missing, and ASL_REQUIRE_SHARED is set (CI must test on the real data)")
        pytest.skip(f"{path} is not here (the real data lives in ../shared beside the checkout)")
    return path


@pytest.fixture(scope="session")
def gislr_sample() -> Path:
    """Real competition files: the full train.csv, the sign map and 267 hello/thankyou recordings."""
    return _shared(SHARED_DATA / "gislr-sample")


@pytest.fixture(scope="session")
def shared_videos() -> Path:
    return _shared(SHARED_DATA / "videos")


def landmark_table(values, first_frame: int = 17):
    """A Kaggle-schema table for raw values (T, 543, 3) (NaN where missing)."""
    import numpy as np
    import pyarrow as pa

    from asl.data.raw import PARQUET_SCHEMA
    from asl.landmarks import ROWS_PER_FRAME, frame_layout

    frames = len(values)
    types, indices = frame_layout()
    frame = np.repeat(np.arange(first_frame, first_frame + frames, dtype=np.int16), ROWS_PER_FRAME)
    type_column = np.tile(types, frames)
    index_column = np.tile(indices, frames)
    row_id = [f"{f}-{t}-{i}" for f, t, i in zip(frame, type_column, index_column)]
    flat = values.reshape(-1, 3).astype(np.float64)
    return pa.table([frame, row_id, type_column.astype(str), index_column, flat[:, 0], flat[:, 1], flat[:, 2]],
                    schema=PARQUET_SCHEMA)


@pytest.fixture
def write_landmarks():
    """Write a landmark parquet file from values (T, 543, 3); returns its path."""
    import pyarrow.parquet as pq

    def write(path: Path, values, first_frame: int = 17) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(landmark_table(values, first_frame), path)
        return path

    return write


@pytest.fixture
def random_landmarks():
    """Random raw values (T, 543, 3) with both hands present in every frame, and a generator for more."""
    import numpy as np

    def make(frames: int, seed: int = 0):
        return np.random.default_rng(seed).uniform(0.2, 0.8, size=(frames, 543, 3))

    return make
