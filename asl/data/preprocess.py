"""The store: each raw recording's kept frames of the selected landmark groups, all recordings in one
memory-mapped array with per-recording offsets and lengths; and the numeric steps the model inputs are built from.

`store_sequence` is the single definition of what is stored, for the training data, videos and the live camera;
`asl.data.inputs` turns stored frames into model input.
"""

from __future__ import annotations

import functools
import os
import shutil
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from asl.data.parallel import map_files_in_order
from asl.data.raw import read_cleaned_values, read_coordinate_table
from asl.errors import AslError
from asl.io import atomic_path
from asl.landmarks import HAND_GROUPS, group_positions, group_rows
from asl.params import PreprocessConfig


def resize_frames(values: np.ndarray, frames: int) -> np.ndarray:
    """Resize (T, L, C) to (frames, L, C).

    Shorter sequences are resampled by linear interpolation in time; longer ones are average-pooled over
    `frames` equal windows (each output frame averages the input frames whose centres fall in its window, so no
    frame weighs more than another, unlike the seed's padding that repeated the first and last frames).
    NaN stays NaN where every contributing value is missing.
    """
    length = len(values)
    if length == 0:
        raise ValueError("cannot resize a sequence with no frames")
    if length == frames:
        return values.copy()
    if length < frames:
        return _interpolate_in_time(values, frames)
    window = (np.arange(length) * frames) // length  # output frame of each input frame: (T,)
    starts = np.searchsorted(window, np.arange(frames))  # windows are contiguous and none is empty
    observed = ~np.isnan(values)
    sums = np.add.reduceat(np.where(observed, values, 0.0), starts, axis=0)
    counts = np.add.reduceat(observed, starts, axis=0, dtype=np.int32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (sums / counts).astype(values.dtype)  # 0/0 = NaN: nothing observed in that window


def _interpolate_in_time(values: np.ndarray, frames: int) -> np.ndarray:
    position = np.linspace(0, len(values) - 1, frames)  # (frames,)
    lower = np.floor(position).astype(int)
    upper = np.minimum(lower + 1, len(values) - 1)
    weight = (position - lower)[:, None, None].astype(values.dtype)
    return values[lower] * (1 - weight) + values[upper] * weight


@dataclass(frozen=True)
class StoredSequence:
    values: np.ndarray  # (K, L, C) float32 of the store's landmark groups, NaN where missing: the kept frames
    dropped_frames: int  # frames dropped by `preprocess.drop_frames`


@dataclass(frozen=True)
class StoreLayout:
    """What the store holds per frame, and how its frames were chosen: what inference needs to store raw frames
    the same way (checkpoints record it, `asdict`)."""

    landmarks: tuple[str, ...]  # group names (asl.landmarks.LANDMARK_GROUPS), in store order
    coordinates: tuple[str, ...]
    drop_frames: str = "without_hands"
    max_gap: int = 3

    @classmethod
    def of(cls, config: PreprocessConfig, coordinates: tuple[str, ...] | list[str]) -> "StoreLayout":
        return cls(tuple(config.landmarks), tuple(coordinates), config.drop_frames, config.max_gap)

    @classmethod
    def from_record(cls, record: dict) -> "StoreLayout":
        return cls(tuple(record["landmarks"]), tuple(record["coordinates"]), record["drop_frames"],
                   int(record["max_gap"]))

    def record(self) -> dict:
        return {"landmarks": list(self.landmarks), "coordinates": list(self.coordinates),
                "drop_frames": self.drop_frames, "max_gap": self.max_gap}

    @property
    def rows(self) -> np.ndarray:
        """Rows of a 543-row frame that the store keeps, in store order."""
        return group_rows(self.landmarks)

    def positions(self, groups: tuple[str, ...] | list[str]) -> np.ndarray:
        """Positions within a stored frame of `groups`, concatenated in their order."""
        missing = [name for name in groups if name not in self.landmarks]
        if missing:
            raise AslError(f"preprocess.landmarks ({', '.join(self.landmarks)}) lacks {', '.join(missing)}, which "
                           "the model's input needs")
        return np.concatenate([group_positions(self.landmarks, name) for name in groups])


def store_sequence(raw: np.ndarray, layout: StoreLayout) -> StoredSequence:
    """Raw Holistic frames (T, 543, C) of the layout's coordinates → the store's frames (K, L, C).

    Select the layout's landmark groups; `without_hands`: fill hand gaps of at most `max_gap` frames, then drop the
    frames without a hand; `empty`: drop only the frames where nothing selected is observed. K may be 0.
    """
    selected = raw[:, layout.rows].astype(np.float32)  # (T, L, C)
    if layout.drop_frames == "without_hands":
        hands = [name for name in HAND_GROUPS if name in layout.landmarks]
        for hand in hands:
            positions = group_positions(layout.landmarks, hand)
            selected[:, positions] = fill_short_gaps(selected[:, positions], layout.max_gap)
        keep = ~np.isnan(selected[:, layout.positions(hands)]).all(axis=(1, 2))  # (T,)
    elif layout.drop_frames == "empty":
        keep = ~np.isnan(selected).all(axis=(1, 2))
    else:
        raise AslError(f"preprocess.drop_frames must be without_hands or empty, got {layout.drop_frames!r}")
    return StoredSequence(selected[keep], int((~keep).sum()))


#: Per normalisation, the x about which a horizontal flip of a normalised sequence equals the normalised flip
#: (x → 1 - x) of the recording: minmax maps the flip to 1 - x, standardize to -x.
MIRROR_AXIS = {"none": 0.5, "minmax": 0.5, "standardize": 0.0}


def normalize(values: np.ndarray, normalization: str) -> np.ndarray:
    """Normalise a sequence (..., C) per coordinate with its own statistics over its observed (non-NaN) points.

    `minmax` scales to [0, 1] (a constant coordinate becomes 0), `standardize` to mean 0 and std 1 (a constant
    coordinate becomes 0), `none` returns the values. Missing points stay NaN.
    """
    if normalization == "none":
        return values
    points = values.reshape(-1, values.shape[-1]).astype(np.float64)  # (points, C)
    observed = ~np.isnan(points)
    if normalization == "minmax":
        low = np.where(observed, points, np.inf).min(axis=0)  # (C,)
        high = np.where(observed, points, -np.inf).max(axis=0)
        scale = np.where(high > low, high - low, 1.0)
        centre = np.where(observed.any(axis=0), low, 0.0)  # a coordinate never observed stays all NaN
    elif normalization == "standardize":
        count = np.maximum(observed.sum(axis=0), 1)  # (C,)
        centre = np.where(observed, points, 0.0).sum(axis=0) / count
        std = np.sqrt(np.where(observed, (points - centre) ** 2, 0.0).sum(axis=0) / count)
        scale = np.where(std > 0, std, 1.0)
    else:
        raise AslError(f"preprocess.normalization must be one of {', '.join(MIRROR_AXIS)}, got {normalization!r}")
    return ((points - centre) / scale).reshape(values.shape).astype(values.dtype)


def fill_short_gaps(part: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill frames where a part (T, P, C) is entirely missing, for runs of at most `max_gap` frames.

    Interior gaps are interpolated linearly between the observed frames on either side; gaps at the start or
    end are filled with the nearest observed frame. Longer gaps stay missing.
    """
    length = len(part)
    seen = ~np.isnan(part).all(axis=(1, 2))  # (T,)
    if seen.all() or not seen.any() or max_gap <= 0:
        return part
    frame = np.arange(length)
    previous = np.maximum.accumulate(np.where(seen, frame, -1))
    following = np.minimum.accumulate(np.where(seen, frame, length)[::-1])[::-1]
    gap = np.where(previous < 0, following, np.where(following >= length, length - 1 - previous,
                                                     following - previous - 1))
    fill = ~seen & (gap <= max_gap)
    before = np.where(previous < 0, following, previous)  # edge gaps: both ends are the nearest observed frame
    after = np.where(following >= length, previous, following)
    span = np.maximum(after - before, 1)
    weight = ((frame - before) / span).astype(part.dtype)[:, None, None]  # (T, 1, 1)
    filled = part.copy()
    filled[fill] = (part[before] * (1 - weight) + part[after] * weight)[fill]
    return filled


def missing(values: np.ndarray) -> np.ndarray:
    """np.isnan, several times faster for float16 (numpy computes it in software): NaN has every exponent bit set
    and a non-zero fraction."""
    if values.dtype != np.float16:
        return np.isnan(values)
    return (values.view(np.uint16) & 0x7FFF) > 0x7C00


def to_model_input(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model input (..., frames, L, C) with NaN → (values with NaN as 0, frame mask: True where anything is
    observed)."""
    absent = missing(values)
    mask = ~absent.reshape(*values.shape[:-2], -1).all(axis=-1)  # (all over a flat axis: faster than over two)
    return np.where(absent, 0, values).astype(values.dtype, copy=False), mask


def store_file(path: str | Path, layout: StoreLayout, ahead: Future | None = None) -> StoredSequence:
    """Read one landmark file that cleaning found usable and keep its stored frames; `ahead`: the future of its
    `read_coordinate_table`, when read ahead."""
    table = ahead.result() if ahead is not None else None
    return store_sequence(read_cleaned_values(path, layout.coordinates, table), layout)


def preprocess_dataset(recordings: pd.DataFrame, raw_dir: Path, sign_map: dict[str, int], config: PreprocessConfig,
                       coordinates: tuple[str, ...], workers: int, values_path: Path) -> pd.DataFrame:
    """Store every kept frame of each of the usable recordings of the clean stage (rows of its recordings table), at
    its own length, in one .npy array (total frames, landmarks, coordinates) of `config.dtype`, written as results
    stream in (memory stays flat). Cleaning validated each file: only its coordinates are read again, and a file
    whose frame count differs from cleaning's (changed since) stops the stage.

    Returns the metadata table, one row per recording in order, with its `offset` and `length` (kept frames;
    0 when none is kept: such a recording still gets a prediction, from an all-padding input).
    """
    if "frames" not in recordings:
        raise AslError("preprocessing needs the clean stage's recordings (their frames column): run clean first")
    layout = StoreLayout.of(config, coordinates)
    dtype = np.dtype(config.dtype)
    paths = [os.path.join(raw_dir, relative) for relative in recordings["path"]]  # str: a third of a Path's memory
    store = functools.partial(store_file, layout=layout)
    read = functools.partial(read_coordinate_table, coordinates=layout.coordinates)
    frames = recordings["frames"].to_numpy(np.int64)
    lengths, dropped = np.zeros(len(recordings), dtype=np.int64), np.zeros(len(recordings), dtype=np.int64)
    with atomic_path(values_path) as temporary:
        body = temporary.with_name(temporary.name + ".body")
        try:
            with open(body, "wb") as stream:  # frames appended as they come; the .npy header needs the total
                results = map_files_in_order(store, paths, read, workers, "preprocess", config.chunk_size)
                for row, sequence in enumerate(results):
                    stream.write(np.ascontiguousarray(sequence.values, dtype=dtype).tobytes())
                    lengths[row], dropped[row] = len(sequence.values), sequence.dropped_frames
                    if lengths[row] + dropped[row] != frames[row]:
                        raise AslError(f"{paths[row]}: {lengths[row] + dropped[row]} frames, but the clean stage "
                                       f"read {frames[row]}: the file changed since; run the clean stage again")
            shape = (int(lengths.sum()), len(layout.rows), len(coordinates))
            with open(temporary, "wb") as out, open(body, "rb") as stream:
                np.lib.format.write_array_header_1_0(out, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                           "fortran_order": False, "shape": shape})
                shutil.copyfileobj(stream, out, 16 * 2**20)
        finally:
            body.unlink(missing_ok=True)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else lengths
    text = {column: recordings[column].array for column in ("sequence_id", "participant_id", "sign", "path")}
    return pd.DataFrame({  # text columns as they are (pandas' compact strings), not as Python objects
        "sequence_id": text["sequence_id"], "participant_id": text["participant_id"], "sign": text["sign"],
        "label": recordings["sign"].map(sign_map).to_numpy(), "path": text["path"], "original_frames": frames,
        "usable_frames": lengths, "dropped_frames": dropped, "offset": offsets, "length": lengths,
    })


@dataclass(frozen=True)
class Store:
    """The preprocess stage's store: every kept frame of every recording, recordings one after another."""

    values: np.ndarray  # (total frames, landmarks, coordinates), memory-mapped
    offsets: np.ndarray  # (recordings,) first frame of each recording
    lengths: np.ndarray  # (recordings,) kept frames of each recording (0: none)

    def __len__(self) -> int:
        return len(self.offsets)

    def sequence(self, row: int) -> np.ndarray:
        """The stored frames (length, landmarks, coordinates) of one recording, as float32."""
        start = int(self.offsets[row])
        return np.asarray(self.values[start:start + int(self.lengths[row])], dtype=np.float32)


def open_store(values_path: Path, meta: pd.DataFrame, meta_path: Path | str = "meta.csv") -> Store:
    """The store of `values_path` with the offsets and lengths of its metadata table, checked against each other."""
    values = load_values(values_path)
    if "offset" not in meta or "length" not in meta or values.ndim != 3:
        raise AslError(f"{meta_path}: no offset and length columns for a variable-length store "
                       "(written before the store existed: run `dvc repro preprocess`)")
    offsets, lengths = meta["offset"].to_numpy(np.int64), meta["length"].to_numpy(np.int64)
    if len(meta) and (offsets + lengths).max() > len(values):
        raise AslError(f"{meta_path}: its offsets and lengths reach past the {len(values)} frames of {values_path}")
    return Store(values, offsets, lengths)


def load_values(values_path: Path) -> np.ndarray:
    """The preprocessed array, memory-mapped read-only."""
    try:
        return np.load(values_path, mmap_mode="r")
    except (OSError, ValueError) as error:
        raise AslError(f"{values_path}: not a readable preprocessed array ({error})") from None
