"""Turning one raw recording into model input, and the whole index into one memory-mapped array.

`preprocess_sequence` is the single definition used for the training data, videos and the live camera.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from asl.data.parallel import map_in_order
from asl.data.raw import read_landmarks
from asl.errors import AslError
from asl.io import atomic_path
from asl.landmarks import HAND_POSITIONS, N_SELECTED, SELECTED_ROWS, selected_positions
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
class PreprocessedSequence:
    values: np.ndarray  # (frames, 96, C), NaN where missing
    usable_frames: int  # frames kept: those with a hand in view after interpolation
    dropped_frames: int  # frames without any hand, dropped before resizing


def preprocess_sequence(raw: np.ndarray, config: PreprocessConfig,
                        keep_without_hands: bool = False) -> PreprocessedSequence:
    """Raw Holistic frames (T, 543, C) → model-ready landmarks (config.frames, 96, C).

    Select the 96 landmarks, interpolate short hand gaps, drop frames with no hand, resize in time, normalise
    (`config.normalization`). A sequence with no hand in any frame is an error, or with `keep_without_hands`
    (datasets: every recording gets a prediction) all missing: an all-padding input.
    """
    selected = raw[:, SELECTED_ROWS].astype(np.float32)  # (T, 96, C)
    for hand in ("left_hand", "right_hand"):
        positions = selected_positions(hand)
        selected[:, positions] = fill_short_gaps(selected[:, positions], config.max_gap)
    hand_seen = ~np.isnan(selected[:, HAND_POSITIONS]).all(axis=(1, 2))  # (T,)
    if not hand_seen.any():
        if keep_without_hands:
            return PreprocessedSequence(np.full((config.frames, *selected.shape[1:]), np.nan, np.float32), 0, len(raw))
        raise AslError("no frame has a hand in view, so there is nothing to recognise")
    kept = selected[hand_seen]
    values = normalize(resize_frames(kept, config.frames), config.normalization)
    return PreprocessedSequence(values, len(kept), int((~hand_seen).sum()))


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


def to_model_input(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Preprocessed (..., frames, 96, C) → (values with NaN as 0, frame mask: True where anything is observed)."""
    mask = ~np.isnan(values).all(axis=(-2, -1))
    return np.nan_to_num(values, nan=0.0), mask


def preprocess_file(path: Path, config: PreprocessConfig, coordinates: tuple[str, ...]) -> PreprocessedSequence:
    """Read and preprocess one landmark file; one without any hand in view is kept as an all-padding input."""
    return preprocess_sequence(read_landmarks(path, coordinates).values, config, keep_without_hands=True)


def preprocess_dataset(index: pd.DataFrame, raw_dir: Path, sign_map: dict[str, int], config: PreprocessConfig,
                       coordinates: tuple[str, ...], workers: int, values_path: Path) -> pd.DataFrame:
    """Preprocess every row of an index of usable recordings into one float32 .npy array, written as results stream in.

    Returns the metadata table, one row per sequence in array order.
    """
    shape = (len(index), config.frames, N_SELECTED, len(coordinates))
    paths = [Path(raw_dir) / relative for relative in index["path"]]
    read = functools.partial(preprocess_file, config=config, coordinates=coordinates)
    usable, dropped = np.zeros(len(index), dtype=int), np.zeros(len(index), dtype=int)
    with atomic_path(values_path) as temporary:
        values = np.lib.format.open_memmap(temporary, mode="w+", dtype=np.float32, shape=shape)
        results = map_in_order(read, paths, len(paths), workers, "preprocess", config.chunk_size)
        for row, sequence in enumerate(results):
            values[row] = sequence.values
            usable[row], dropped[row] = sequence.usable_frames, sequence.dropped_frames
        del values  # unmapped; the page cache writes it out (an explicit flush would wait for the disk)
    original = index["frames"] if "frames" in index else usable + dropped
    return pd.DataFrame({
        "sequence_id": index["sequence_id"].to_numpy(), "participant_id": index["participant_id"].to_numpy(),
        "sign": index["sign"].to_numpy(), "label": index["sign"].map(sign_map).to_numpy(),
        "path": index["path"].to_numpy(), "original_frames": np.asarray(original),
        "usable_frames": usable, "dropped_frames": dropped,
    })


def load_values(values_path: Path) -> np.ndarray:
    """The preprocessed array, memory-mapped read-only."""
    try:
        return np.load(values_path, mmap_mode="r")
    except (OSError, ValueError) as error:
        raise AslError(f"{values_path}: not a readable preprocessed array ({error})") from None
