"""Quality rules: which usable training recordings to leave out of training, and why.

The rules use each row's own sign (length statistics per sign), so they are computed from training rows and
applied to training rows only: the test split is scored whole, whatever its recordings look like.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from asl.params import CleanConfig

#: Rule names, in the order they are applied; a row gets the first that matches.
QUALITY_RULES = ("too_few_frames", "hands_missing", "too_short", "length_outlier")


@dataclass(frozen=True)
class LengthStats:
    """Length (frames) per sign over the rows the rules learn from."""

    median: pd.Series
    mean: pd.Series
    std: pd.Series

    @classmethod
    def of(cls, rows: pd.DataFrame) -> LengthStats:
        stats = rows.groupby("sign")["frames"].agg(["median", "mean", "std"])
        return cls(stats["median"], stats["mean"], stats["std"].fillna(0.0))


def quality_problems(rows: pd.DataFrame, stats: LengthStats, config: CleanConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per row (columns sign, frames, usable_frames, longest_missing_run) the first rule that drops it ("" = keep)
    and a human-readable detail. Signs without statistics are only checked by the rules that need none."""
    frames = rows["frames"].to_numpy()
    usable = rows["usable_frames"].to_numpy()
    missing_run = rows["longest_missing_run"].to_numpy()
    median = rows["sign"].map(stats.median).to_numpy(dtype=float)  # NaN: the sign has no training rows
    mean = rows["sign"].map(stats.mean).to_numpy(dtype=float)
    std = rows["sign"].map(stats.std).to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        matches = [
            (usable < config.min_frames,
             lambda i: f"{usable[i]} usable frames < clean.min_frames={config.min_frames}"),
            (missing_run > config.max_consecutive_missing,
             lambda i: f"hands missing for {missing_run[i]} consecutive frames > {config.max_consecutive_missing}"),
            (frames < config.min_length_ratio * median,
             lambda i: f"{frames[i]} frames < {config.min_length_ratio:g} x median {median[i]:g} of its sign"),
            (np.abs(frames - mean) > config.max_length_std * std,
             lambda i: f"{frames[i]} frames is more than {config.max_length_std:g} std from its sign's mean "
                       f"{mean[i]:.1f}"),
        ]
    reasons = np.full(len(rows), "", dtype=object)
    details = np.full(len(rows), "", dtype=object)
    for rule, (match, describe) in zip(QUALITY_RULES, matches):
        for i in np.flatnonzero(match & (reasons == "")):
            reasons[i], details[i] = rule, describe(i)
    return reasons, details
