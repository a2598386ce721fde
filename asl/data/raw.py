"""Reading the Kaggle asl-signs raw layout: `train.csv`, the sign map and the landmark parquet files.

Every problem is an `AslError` naming the file and what is wrong; `LandmarkFileError` marks a bad landmark file,
which cleaning records as dropped instead of stopping.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from asl.errors import AslError
from asl.landmarks import PART_NAMES, ROWS_PER_FRAME, frame_layout

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
PARQUET_MAGIC = b"PAR1"  # a parquet file's first and last four bytes


#: Largest |coordinate| a landmark file may hold. MediaPipe normalises x and y to the image (0..1) and z to its
#: width, and points outside the image go beyond: the 267 real files of gislr-sample span x -0.40..1.55,
#: y 0.02..2.87, z -4.69..3.27. 100 leaves room for any real recording and catches garbage (1e30, overflow).
MAX_ABS_COORDINATE = 100.0
#: The reason codes of `LandmarkFileError`, which `clean` records for each file it cannot use.
FILE_PROBLEMS = ("missing_file", "unreadable_file", "bad_schema", "bad_row_count", "bad_landmark_order",
                 "bad_frame_numbers", "non_finite", "out_of_range")


class LandmarkFileError(AslError):
    """A landmark file that cannot be used; `reason` is its code in FILE_PROBLEMS."""

    def __init__(self, message: str, reason: str = "unreadable_file") -> None:
        super().__init__(message)
        self.reason = reason


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


def read_landmarks(path: str | Path, coordinates: tuple[str, ...] | list[str] = ("x", "y"),
                   table: pa.Table | None = None) -> LandmarkSequence:
    """Read and validate one landmark file in one pass: the Kaggle column types, 543 rows per frame in layout order,
    one increasing number per frame, and finite coordinates within MAX_ABS_COORDINATE (NaN = not found).

    Only `frame`, `type` (dictionary-encoded), `landmark_index` and the coordinates are read; the rows are already in
    layout order, so they reshape per frame without pivoting. Any problem raises `LandmarkFileError` with its reason.
    `table`: the file's `read_landmark_table(path, coordinates)`, already read (`asl.data.parallel.map_files_in_order`
    reads ahead); `path` then only names it.
    """
    path = Path(path)
    table = read_landmark_table(path, coordinates) if table is None else table
    frame_numbers = _check_layout(table, path)
    return LandmarkSequence(frame_numbers, _checked_values(table, coordinates, path))


def read_landmark_table(path: str | Path, coordinates: tuple[str, ...] | list[str] = ("x", "y")) -> pa.Table:
    """The columns of a landmark file that `read_landmarks` parses, their types checked: only their column chunks
    are read from disk."""
    _check_coordinates(coordinates)
    return _read_table(Path(path), ["frame", "type", "landmark_index", *coordinates])


def read_cleaned_values(path: str | Path, coordinates: tuple[str, ...] | list[str] = ("x", "y"),
                        table: pa.Table | None = None) -> np.ndarray:
    """The coordinates (frames, 543, C) of a file that `read_landmarks` has already found valid (the clean stage),
    float32, NaN where not found: only the coordinate columns are read, and only checked as `read_landmarks` checks
    them (whole frames, finite values in range), not the layout again. `table`: its `read_coordinate_table`."""
    path = Path(path)
    table = read_coordinate_table(path, coordinates) if table is None else table
    _frame_count(table, path)
    return _checked_values(table, coordinates, path)


def read_coordinate_table(path: str | Path, coordinates: tuple[str, ...] | list[str] = ("x", "y")) -> pa.Table:
    """The coordinate columns of a landmark file, their types checked: what `read_cleaned_values` parses."""
    _check_coordinates(coordinates)
    return _read_table(Path(path), list(coordinates))


def _check_coordinates(coordinates: tuple[str, ...] | list[str]) -> None:
    unknown = [c for c in coordinates if c not in COORDINATES]
    if unknown:
        raise AslError(f"unknown coordinate(s) {', '.join(unknown)}; choose from {', '.join(COORDINATES)}")


def validate_landmark_file(path: str | Path) -> int:
    """Check a file as `read_landmarks` does, on every coordinate and with `row_id`'s type; return its frames."""
    frames = len(read_landmarks(path, COORDINATES).frame_numbers)
    _check_schema(pq.read_schema(path), ["row_id"], Path(path))
    return frames


def _check_layout(table: pa.Table, path: Path) -> np.ndarray:
    """The frame numbers of a table whose rows are whole frames in layout order, each with one increasing number."""
    frames = _frame_count(table, path)
    for column in ("frame", "type", "landmark_index"):
        if table.column(column).null_count:
            raise LandmarkFileError(f"{path}: column {column!r} has {table.column(column).null_count} empty values",
                                    "bad_schema")
    kinds, indices = _layout_codes()
    if not (np.array_equal(_part_codes(table.column("type")).reshape(frames, ROWS_PER_FRAME), np.broadcast_to(
            kinds, (frames, ROWS_PER_FRAME))) and np.array_equal(
            table.column("landmark_index").to_numpy().reshape(frames, ROWS_PER_FRAME),
            np.broadcast_to(indices, (frames, ROWS_PER_FRAME)))):
        raise LandmarkFileError(f"{path}: rows are not in the Holistic layout ({ROWS_PER_FRAME} per frame: face, "
                                "left_hand, pose, right_hand, each by landmark_index)", "bad_landmark_order")
    frame_column = table.column("frame").to_numpy().reshape(frames, ROWS_PER_FRAME)
    numbers = frame_column[:, 0]
    if not (frame_column == numbers[:, None]).all() or numbers[0] < 0 or (np.diff(numbers) <= 0).any():
        raise LandmarkFileError(f"{path}: each frame must be one block of {ROWS_PER_FRAME} rows with its own number "
                                "(≥ 0, increasing)", "bad_frame_numbers")
    return numbers


def _frame_count(table: pa.Table, path: Path) -> int:
    """The frames of a table whose rows are whole frames."""
    rows = table.num_rows
    if rows == 0 or rows % ROWS_PER_FRAME:
        raise LandmarkFileError(f"{path}: {rows} rows is not a positive multiple of {ROWS_PER_FRAME} (rows per frame)",
                                "bad_row_count")
    return rows // ROWS_PER_FRAME


def _checked_values(table: pa.Table, coordinates: tuple[str, ...] | list[str], path: Path) -> np.ndarray:
    """The coordinate columns of a table of whole frames as float32 (frames, 543, C), checked by `_check_values` (on
    the file's float64 values)."""
    values = np.stack([table.column(c).to_numpy() for c in coordinates], axis=-1)  # (rows, C) float64
    _check_values(values, coordinates, path)
    return values.astype(np.float32).reshape(-1, ROWS_PER_FRAME, len(coordinates))


def _check_values(values: np.ndarray, coordinates: tuple[str, ...] | list[str], path: Path) -> None:
    """Raise on the first infinite value, or the first beyond MAX_ABS_COORDINATE (NaN compares false: allowed)."""
    with np.errstate(invalid="ignore"):
        bad = np.abs(values) > MAX_ABS_COORDINATE  # (T * 543, C)
    if not bad.any():
        return
    infinite = np.isinf(values)
    row, column = np.argwhere(infinite if infinite.any() else bad)[0]
    frame, landmark = divmod(int(row), ROWS_PER_FRAME)
    kinds, indices = frame_layout()
    where = f"{coordinates[column]} = {values[row, column]:g} at frame {frame} ({kinds[landmark]} {indices[landmark]})"
    if infinite.any():
        raise LandmarkFileError(f"{path}: non-finite coordinate: {where}", "non_finite")
    raise LandmarkFileError(f"{path}: coordinate out of range (|value| > {MAX_ABS_COORDINATE:g}): {where}",
                            "out_of_range")


@functools.cache
def _layout_codes() -> tuple[np.ndarray, np.ndarray]:
    """One frame's part codes (index in PART_NAMES) and landmark indices, as int8 and int16."""
    kinds, indices = frame_layout()
    return np.array([PART_NAMES.index(kind) for kind in kinds], dtype=np.int8), indices


def _part_codes(column: pa.ChunkedArray) -> np.ndarray:
    """The dictionary-encoded `type` column as part codes (index in PART_NAMES; -1 for an unknown name)."""
    codes = []
    for chunk in column.chunks:
        lookup = np.array([PART_NAMES.index(name) if name in PART_NAMES else -1
                           for name in chunk.dictionary.to_pylist()], dtype=np.int8)
        codes.append(lookup[chunk.indices.to_numpy()])
    return np.concatenate(codes) if codes else np.zeros(0, dtype=np.int8)


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
    """Read only `columns` (`type` dictionary-encoded) after checking their types in the file's schema."""
    if not path.is_file():
        raise LandmarkFileError(f"{path}: file not found", "missing_file")
    try:
        try:
            parquet = pq.ParquetFile(path, metadata=_footer(path), read_dictionary=["type"])
        except KeyError:  # pyarrow's answer when the column to read dictionary-encoded is absent
            raise LandmarkFileError(f"{path}: missing column(s) type", "bad_schema") from None
        _check_schema(parquet.schema_arrow, columns, path)
        return parquet.read(columns=columns)
    except (pa.ArrowException, OSError) as error:
        raise LandmarkFileError(f"{path}: not a readable parquet file ({error})") from None


def _footer(path: Path) -> pq.FileMetaData | None:
    """A parquet file's metadata, read alone from its end; None where that end is not a footer (or cannot be read),
    leaving pyarrow to read it and name the problem itself.

    pyarrow reads a footer with up to 64 KB before it (PARQUET-978; not settable from Python): in a landmark file
    of ~300 KB, most of the last column chunk, `z`, which is read for nothing unless `z` is asked for.
    """
    try:
        with open(path, "rb", buffering=0) as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(size - 8, 0))
            tail = file.read(8)  # the metadata's length (int32, little-endian) and the magic bytes
            length = int.from_bytes(tail[:4], "little", signed=True)
            if size < 12 or tail[4:] != PARQUET_MAGIC or not 0 < length <= size - 12:
                return None
            file.seek(size - 8 - length)
            footer = file.read(length + 8)
        return pq.read_metadata(pa.BufferReader(PARQUET_MAGIC + footer))
    except (pa.ArrowException, OSError):
        return None


def _check_schema(schema: pa.Schema, columns: list[str], path: Path) -> None:
    """Each of `columns` is in the file with its Kaggle type (`type` may be dictionary-encoded)."""
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise LandmarkFileError(f"{path}: missing column(s) {', '.join(missing)}", "bad_schema")
    for column in columns:
        actual = schema.field(column).type
        if pa.types.is_dictionary(actual):
            actual = actual.value_type
        expected = PARQUET_SCHEMA.field(column).type
        if actual != expected:
            raise LandmarkFileError(f"{path}: column {column!r} has type {actual}, expected {expected}", "bad_schema")
