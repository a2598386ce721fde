"""Cleaning: one pass over every landmark file of the index, recording what each file is and whether it is usable.

Only file-level checks happen here (missing, unreadable or malformed files, signs the map does not know): nothing
that depends on a split or on statistics over other rows. The quality rules that do (`asl.data.quality`) run in the
split stage, on training rows only. Raw files are only read; the output is a table of recordings.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from asl.data.parallel import map_files_in_order
from asl.data.raw import LandmarkFileError, read_landmark_table, read_landmarks
from asl.errors import AslError
from asl.landmarks import ROWS_PER_FRAME, part_rows

#: File-level problems this stage records itself; the landmark reader adds its own codes (`LandmarkFileError.reason`).
MISSING_FILE, UNKNOWN_SIGN = "missing_file", "unknown_sign"
RECORDING_COLUMNS = ("path", "participant_id", "sequence_id", "sign", "frames", "usable_frames",
                     "longest_missing_run", "problem", "detail")


@dataclass(frozen=True)
class FileSummary:
    """What cleaning needs to know about one landmark file."""

    frames: int = 0
    usable_frames: int = 0  # frames with at least one hand in view
    longest_missing_run: int = 0  # most consecutive frames without any hand
    coordinate_sums: np.ndarray | None = None  # (543, C): sums over frames of observed values
    coordinate_counts: np.ndarray | None = None  # (543, C)
    problem: str = ""  # a reason code; "" when the file is usable
    detail: str = ""


@dataclass(frozen=True)
class ScanResult:
    recordings: pd.DataFrame  # one row per index row: RECORDING_COLUMNS
    sign_stats: pd.DataFrame  # per sign: count, min, max, mean, median, std of length (usable files)
    sign_landmark_means: pd.DataFrame  # per sign and landmark: mean of each coordinate


def summarise_file(path: str | Path, coordinates: tuple[str, ...], ahead: Future) -> FileSummary:
    """What cleaning records of one file; `ahead`: the future of its `read_landmark_table`."""
    try:
        values = read_landmarks(path, coordinates, ahead.result()).values  # (T, 543, C)
    except LandmarkFileError as error:
        return FileSummary(problem=error.reason, detail=str(error))
    hand_rows = np.concatenate([part_rows("left_hand"), part_rows("right_hand")])
    hand_seen = ~np.isnan(values[:, hand_rows]).all(axis=(1, 2))  # (T,)
    observed = ~np.isnan(values)
    return FileSummary(
        frames=len(values),
        usable_frames=int(hand_seen.sum()),
        longest_missing_run=longest_run(~hand_seen),
        coordinate_sums=np.where(observed, values, 0).sum(axis=0, dtype=np.float64),
        coordinate_counts=observed.sum(axis=0),
    )


def longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True values."""
    padded = np.concatenate([[0], flags.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max()) if len(edges) else 0


def scan_recordings(index: pd.DataFrame, raw_dir: Path, sign_map: dict[str, int], coordinates: tuple[str, ...],
                    workers: int) -> ScanResult:
    """Read every file of the index once; raise `AslError` when not one recording is usable."""
    paths = [os.path.join(raw_dir, relative) for relative in index["path"]]  # str: a third of a Path's memory
    present = np.flatnonzero([os.path.isfile(path) for path in paths])
    # one column per field rather than a summary object per file: a few bytes per recording in this process
    counts = {column: np.zeros(len(paths), np.int64) for column in ("frames", "usable_frames", "longest_missing_run")}
    problems, details = [MISSING_FILE] * len(paths), ["file not found"] * len(paths)
    summarise = functools.partial(summarise_file, coordinates=coordinates)
    read = functools.partial(read_landmark_table, coordinates=coordinates)
    landmark_totals = LandmarkTotals()
    for row, summary in zip(present, map_files_in_order(summarise, [paths[i] for i in present], read, workers,
                                                        "clean")):
        sign = index["sign"].iat[row]
        if sign in sign_map:
            landmark_totals.add(sign, summary)
        elif not summary.problem:
            summary = dataclasses.replace(summary, problem=UNKNOWN_SIGN,
                                          detail=f"sign {sign!r} is not in the sign map")
        for column, values in counts.items():
            values[row] = getattr(summary, column)
        problems[row], details[row] = summary.problem, summary.detail
    recordings = index.assign(**counts, problem=problems, detail=details)[list(RECORDING_COLUMNS)]
    usable = recordings[recordings["problem"] == ""]
    if usable.empty:
        by_problem = recordings["problem"].value_counts().to_dict()
        raise AslError(f"{raw_dir}: no usable recording among {len(recordings)} index rows ({by_problem})")
    return ScanResult(recordings, sign_length_stats(usable), landmark_totals.means(coordinates))


def sign_length_stats(table: pd.DataFrame) -> pd.DataFrame:
    """Sequence length (frames) per sign: count, min, max, mean, median, std."""
    stats = table.groupby("sign")["frames"].agg(["count", "min", "max", "mean", "median", "std"])
    return stats.reset_index()


class LandmarkTotals:
    """Running sums of observed coordinates per sign, so memory does not grow with the number of files."""

    def __init__(self) -> None:
        self.sums: dict[str, np.ndarray] = {}
        self.counts: dict[str, np.ndarray] = {}

    def add(self, sign: str, summary: FileSummary) -> None:
        if summary.problem:
            return
        self.sums[sign] = self.sums.get(sign, 0) + summary.coordinate_sums
        self.counts[sign] = self.counts.get(sign, 0) + summary.coordinate_counts

    def means(self, coordinates: tuple[str, ...]) -> pd.DataFrame:
        """Average position of each of the 543 landmarks per sign, over all frames of its readable files."""
        tables = []
        for sign in sorted(self.sums):
            with np.errstate(invalid="ignore", divide="ignore"):
                means = self.sums[sign] / self.counts[sign]  # (543, C)
            table = pd.DataFrame(means, columns=list(coordinates))
            table.insert(0, "landmark", np.arange(ROWS_PER_FRAME))
            table.insert(0, "sign", sign)
            tables.append(table)
        return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["sign", "landmark", *coordinates])


def read_recordings(path: Path) -> pd.DataFrame:
    """The clean stage's recordings.csv; ids, signs, problems and details stay text."""
    try:
        recordings = pd.read_csv(path, dtype={c: str for c in ("path", "participant_id", "sequence_id", "sign",
                                                               "problem", "detail")}, keep_default_na=False)
    except FileNotFoundError:
        raise AslError(f"{path}: not found (run the clean stage first)") from None
    missing = [column for column in RECORDING_COLUMNS if column not in recordings]
    if missing:
        raise AslError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(RECORDING_COLUMNS)}")
    return recordings
