"""Reading the Kaggle asl-signs raw layout: `train.csv`, the sign map and the landmark parquet files.

Every problem is an `AslError` naming the file and what is wrong; `LandmarkFileError` marks a bad landmark file,
which cleaning records as dropped instead of stopping.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from asl.errors import AslError
from asl.landmarks import ROWS_PER_FRAME, frame_layout

INDEX_FILE = "train.csv"
SIGN_MAP_FILE = "sign_to_prediction_index_map.json"
LANDMARK_DIR = "train_landmark_files"
INDEX_COLUMNS = ("path", "participant_id", "sequence_id", "sign")
PARQUET_SCHEMA = pa.schema([
    ("frame", pa.int16()),
    ("row_id", pa.string()),
    ("type", pa.string()),
    ("landmark_index", pa.int16()),
    ("x", pa.float64()),
    ("y", pa.float64()),
    ("z", pa.float64()),
])
COORDINATES = ("x", "y", "z")


class LandmarkFileError(AslError):
    """A landmark file that is missing, unreadable or not in the Kaggle schema."""


@dataclass(frozen=True)
class LandmarkSequence:
    """One recording: Kaggle frame numbers and coordinates shaped (frames, 543, coordinates), NaN where missing."""

    frame_numbers: np.ndarray
    values: np.ndarray


def read_index(raw_dir: str | Path) -> pd.DataFrame:
    """The `train.csv` index, with participant and sequence ids as strings."""
    path = Path(raw_dir) / INDEX_FILE
    if not path.is_file():
        raise AslError(f"{path}: index file not found (is data.raw_dir a Kaggle asl-signs folder?)")
    try:
        index = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise AslError(f"{path}: not a readable CSV file: {error}") from None
    missing = [column for column in INDEX_COLUMNS if column not in index.columns]
    if missing:
        raise AslError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(INDEX_COLUMNS)}")
    return index[list(INDEX_COLUMNS)]


def read_sign_map(raw_dir: str | Path) -> dict[str, int]:
    """The official sign → label map; labels must be 0..n-1."""
    path = Path(raw_dir) / SIGN_MAP_FILE
    try:
        sign_map = json.loads(path.read_text())
    except FileNotFoundError:
        raise AslError(f"{path}: sign map not found") from None
    except json.JSONDecodeError as error:
        raise AslError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(sign_map, dict) or sorted(sign_map.values()) != list(range(len(sign_map))):
        raise AslError(f"{path}: must map each sign name to a distinct label 0..n-1")
    return sign_map


def check_signs_in_map(index: pd.DataFrame, sign_map: dict[str, int], index_path: str | Path) -> None:
    """Raise naming the signs of the index that the sign map does not know."""
    unknown = sorted(set(index["sign"]) - set(sign_map))
    if unknown:
        shown = ", ".join(repr(sign) for sign in unknown[:10])
        raise AslError(f"{index_path}: sign(s) not in {SIGN_MAP_FILE}: {shown}")


def read_landmarks(path: str | Path, coordinates: tuple[str, ...] | list[str] = ("x", "y")) -> LandmarkSequence:
    """Read one landmark file: only `frame` and the coordinates, reshaped per frame without pivoting."""
    path = Path(path)
    unknown = [c for c in coordinates if c not in COORDINATES]
    if unknown:
        raise AslError(f"unknown coordinate(s) {', '.join(unknown)}; choose from {', '.join(COORDINATES)}")
    table = _read_table(path, ["frame", *coordinates])
    rows = table.num_rows
    if rows == 0 or rows % ROWS_PER_FRAME:
        raise LandmarkFileError(f"{path}: {rows} rows is not a positive multiple of {ROWS_PER_FRAME} (rows per frame)")
    frames = rows // ROWS_PER_FRAME
    values = np.stack([_column_as_float(table, c, path) for c in coordinates], axis=-1)
    frame_numbers = table.column("frame").to_numpy()[::ROWS_PER_FRAME]
    return LandmarkSequence(frame_numbers, values.reshape(frames, ROWS_PER_FRAME, len(coordinates)))


def validate_landmark_file(path: str | Path) -> int:
    """Check a file against the full Kaggle schema and layout; return its frame count."""
    path = Path(path)
    table = _read_table(path, list(PARQUET_SCHEMA.names))
    for field in PARQUET_SCHEMA:
        actual = table.schema.field(field.name).type
        if actual != field.type:
            raise LandmarkFileError(f"{path}: column {field.name!r} has type {actual}, expected {field.type}")
    sequence = read_landmarks(path, COORDINATES)
    frames = len(sequence.frame_numbers)
    types, indices = frame_layout()
    if not (np.array_equal(table.column("type").to_numpy(zero_copy_only=False), np.tile(types, frames))
            and np.array_equal(table.column("landmark_index").to_numpy(), np.tile(indices, frames))):
        raise LandmarkFileError(f"{path}: rows are not in the Holistic layout (face, left_hand, pose, right_hand)")
    frame_column = table.column("frame").to_numpy().reshape(frames, ROWS_PER_FRAME)
    if not (frame_column == frame_column[:, :1]).all() or len(np.unique(frame_column[:, 0])) != frames:
        raise LandmarkFileError(f"{path}: each frame must be one block of {ROWS_PER_FRAME} rows with its own number")
    return frames


@functools.cache
def _frame_columns() -> tuple[pa.Array, pa.Array, pa.Array]:
    """The `type`, `landmark_index` and row-id suffix (`-face-0` ...) columns of one frame."""
    types, indices = frame_layout()
    suffixes = [f"-{kind}-{index}" for kind, index in zip(types, indices)]
    return pa.array(types, pa.string()), pa.array(indices, pa.int16()), pa.array(suffixes, pa.string())


def landmark_table(frame_numbers: np.ndarray, values: np.ndarray) -> pa.Table:
    """Frames (T, 543, 3) as a table in the Kaggle schema; NaN values become nulls, as pandas wrote them."""
    frames = len(values)
    if values.shape[1:] != (ROWS_PER_FRAME, 3) or len(frame_numbers) != frames:
        raise ValueError(f"expected values (frames, {ROWS_PER_FRAME}, 3) and one number per frame, "
                         f"got {values.shape} and {len(frame_numbers)}")
    if frames and (np.min(frame_numbers) < 0 or np.max(frame_numbers) > np.iinfo(np.int16).max):
        raise AslError(f"frame numbers must fit int16 (0..{np.iinfo(np.int16).max}) in the Kaggle schema")
    types, indices, suffixes = _frame_columns()
    frame = pa.array(np.repeat(np.asarray(frame_numbers, dtype=np.int16), ROWS_PER_FRAME))
    row_id = pc.binary_join_element_wise(pc.cast(frame, pa.string()), pa.concat_arrays([suffixes] * frames), "")
    flat = values.reshape(-1, 3)  # (T * 543, 3)
    columns = [frame, row_id, pa.concat_arrays([types] * frames), pa.concat_arrays([indices] * frames)]
    columns += [pa.array(flat[:, axis], pa.float64(), from_pandas=True) for axis in range(3)]
    return pa.Table.from_arrays(columns, schema=PARQUET_SCHEMA)


def _read_table(path: Path, columns: list[str]) -> pa.Table:
    """Read only `columns`, opening the file once (its schema is checked from the same handle)."""
    if not path.is_file():
        raise LandmarkFileError(f"{path}: file not found")
    try:
        parquet = pq.ParquetFile(path)
        missing = [c for c in columns if c not in parquet.schema_arrow.names]
        if missing:
            raise LandmarkFileError(f"{path}: missing column(s) {', '.join(missing)}")
        return parquet.read(columns=columns)
    except (pa.ArrowException, OSError) as error:
        raise LandmarkFileError(f"{path}: not a readable parquet file ({error})") from None


def _column_as_float(table: pa.Table, column: str, path: Path) -> np.ndarray:
    array = table.column(column)
    if not pa.types.is_floating(array.type):
        raise LandmarkFileError(f"{path}: column {column!r} has type {array.type}, expected a float")
    return array.to_numpy().astype(np.float32, copy=False)
