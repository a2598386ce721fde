"""Cleaning: decide which rows of the index to keep, and record why the others were dropped.

The seed's data utilities, as one pass over the files: per-sign length statistics, average landmark positions
per sign, and the drop rules. Raw files are only read; the output is a new index and a report.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from asl.data.parallel import map_in_order
from asl.data.raw import LandmarkFileError, read_landmarks
from asl.landmarks import ROWS_PER_FRAME, part_rows
from asl.params import CleanConfig

#: Drop reasons, in the order the rules are applied; a row gets the first that matches.
REASONS = ("missing_file", "unreadable_file", "too_few_frames", "hands_missing", "too_short", "length_outlier")


@dataclass(frozen=True)
class FileSummary:
    """What cleaning needs to know about one landmark file."""

    frames: int = 0
    usable_frames: int = 0  # frames with at least one hand in view
    longest_missing_run: int = 0  # most consecutive frames without any hand
    coordinate_sums: np.ndarray | None = None  # (543, C): sums over frames of observed values
    coordinate_counts: np.ndarray | None = None  # (543, C)
    error: str = ""


@dataclass(frozen=True)
class CleanResult:
    kept: pd.DataFrame  # the index rows kept, with frames and usable_frames
    report: dict
    sign_stats: pd.DataFrame  # per sign: count, min, max, mean, median, std of length
    sign_landmark_means: pd.DataFrame  # per sign and landmark: mean of each coordinate


def summarise_file(path: Path, coordinates: tuple[str, ...]) -> FileSummary:
    try:
        values = read_landmarks(path, coordinates).values  # (T, 543, C)
    except LandmarkFileError as error:
        return FileSummary(error=str(error))
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


def clean(index: pd.DataFrame, raw_dir: Path, config: CleanConfig, coordinates: tuple[str, ...],
          workers: int) -> CleanResult:
    """Apply the drop rules to every row of the index."""
    paths = [Path(raw_dir) / relative for relative in index["path"]]
    present = np.array([path.is_file() for path in paths])
    summaries: list[FileSummary] = [FileSummary(error="file not found")] * len(paths)
    present_rows = np.flatnonzero(present)
    read = functools.partial(summarise_file, coordinates=coordinates)
    results = map_in_order(read, [paths[i] for i in present_rows], len(present_rows), workers, "clean")
    landmark_totals = LandmarkTotals()
    for row, summary in zip(present_rows, results):
        landmark_totals.add(index["sign"].iat[row], summary)
        summaries[row] = dataclasses.replace(summary, coordinate_sums=None, coordinate_counts=None)
    table = index.assign(
        frames=[s.frames for s in summaries],
        usable_frames=[s.usable_frames for s in summaries],
        longest_missing_run=[s.longest_missing_run for s in summaries],
    )
    reasons, details = drop_reasons(table, present, [s.error for s in summaries], config)
    kept = table[reasons == ""].drop(columns="longest_missing_run").reset_index(drop=True)
    readable = (reasons != "missing_file") & (reasons != "unreadable_file")
    return CleanResult(
        kept=kept,
        report=build_report(table, reasons, details, config.max_dropped_examples),
        sign_stats=sign_length_stats(table[readable]),
        sign_landmark_means=landmark_totals.means(coordinates),
    )


def drop_reasons(table: pd.DataFrame, present: np.ndarray, errors: list[str],
                 config: CleanConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first drop reason that applies ("" = keep) and a human-readable detail."""
    frames = table["frames"].to_numpy()
    stats = table[present & (frames > 0)].groupby("sign")["frames"].agg(["median", "mean", "std"])
    median = table["sign"].map(stats["median"]).to_numpy(dtype=float)
    mean = table["sign"].map(stats["mean"]).to_numpy(dtype=float)
    std = np.nan_to_num(table["sign"].map(stats["std"]).to_numpy(dtype=float))
    usable = table["usable_frames"].to_numpy()
    missing_run = table["longest_missing_run"].to_numpy()
    rules = [
        (~present, lambda i: "file not found"),
        (np.array([bool(e) for e in errors]) & present, lambda i: errors[i]),
        (usable < config.min_frames, lambda i: f"{usable[i]} usable frames < clean.min_frames={config.min_frames}"),
        (missing_run > config.max_consecutive_missing,
         lambda i: f"hands missing for {missing_run[i]} consecutive frames > {config.max_consecutive_missing}"),
        (frames < config.min_length_ratio * median,
         lambda i: f"{frames[i]} frames < {config.min_length_ratio:g} x median {median[i]:g} of its sign"),
        (np.abs(frames - mean) > config.max_length_std * std,
         lambda i: f"{frames[i]} frames is more than {config.max_length_std:g} std from its sign's mean {mean[i]:.1f}"),
    ]
    reasons = np.full(len(table), "", dtype=object)
    details = np.full(len(table), "", dtype=object)
    for reason, (matches, describe) in zip(REASONS, rules):
        for i in np.flatnonzero(matches & (reasons == "")):
            reasons[i], details[i] = reason, describe(i)
    return reasons, details


def build_report(table: pd.DataFrame, reasons: np.ndarray, details: np.ndarray, max_examples: int) -> dict:
    dropped = {reason: int((reasons == reason).sum()) for reason in REASONS if (reasons == reason).any()}
    examples = {
        reason: [
            {"path": table["path"].iat[i], "participant_id": table["participant_id"].iat[i],
             "sign": table["sign"].iat[i], "detail": details[i]}
            for i in np.flatnonzero(reasons == reason)[:max_examples]
        ]
        for reason in dropped
    }
    return {"n_index_rows": len(table), "n_kept": int((reasons == "").sum()), "dropped": dropped,
            "examples": examples}


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
        if summary.error:
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
