"""Each quality rule, with statistics from the rows given (the split stage gives training rows only)."""

from __future__ import annotations

import pandas as pd

from asl.data.quality import LengthStats, quality_problems
from asl.params import CleanConfig

CONFIG = CleanConfig(min_frames=3, max_consecutive_missing=5, min_length_ratio=0.5, max_length_std=2.0,
                     max_dropped_examples=5)


def rows(*specs: tuple[str, int, int, int]) -> pd.DataFrame:
    return pd.DataFrame(specs, columns=["sign", "frames", "usable_frames", "longest_missing_run"])


TYPICAL = [("a", 20, 20, 0)] * 9  # median and mean 20, std 0 before the rows under test join


def reasons(table: pd.DataFrame, stats_from: pd.DataFrame | None = None) -> list[str]:
    found, _ = quality_problems(table, LengthStats.of(table if stats_from is None else stats_from), CONFIG)
    return list(found)


def test_too_few_frames():
    assert reasons(rows(*TYPICAL, ("a", 20, 2, 0)))[-1] == "too_few_frames"
    assert reasons(rows(*TYPICAL, ("a", 20, 3, 0)))[-1] == ""


def test_hands_missing():
    assert reasons(rows(*TYPICAL, ("a", 20, 14, 6)))[-1] == "hands_missing"
    assert reasons(rows(*TYPICAL, ("a", 20, 15, 5)))[-1] == ""


def test_too_short_against_its_signs_median():
    table = rows(*TYPICAL, ("a", 9, 9, 0), ("b", 9, 9, 0))
    assert reasons(table)[-2:] == ["too_short", ""]  # 9 < 0.5 x 20; sign b's median is 9 itself


def test_length_outlier_against_its_signs_mean_and_std():
    spread = [("a", length, length, 0) for length in (18, 22) * 10]  # mean 20, std about 2
    found, details = quality_problems(rows(*spread, ("a", 30, 30, 0)),
                                      LengthStats.of(rows(*spread)), CONFIG)
    assert found[-1] == "length_outlier" and "more than 2 std from its sign's mean 20.0" in details[-1]
    assert set(found[:-1]) == {""}


def test_first_rule_wins_and_details_say_why():
    found, details = quality_problems(rows(*TYPICAL, ("a", 4, 1, 3)), LengthStats.of(rows(*TYPICAL)), CONFIG)
    assert found[-1] == "too_few_frames" and details[-1] == "1 usable frames < clean.min_frames=3"


def test_statistics_come_from_the_rows_they_are_given():
    training = rows(*TYPICAL)
    scored = rows(("a", 9, 9, 0), ("c", 1000, 1000, 0))  # sign c never occurs in training: no length rule applies
    assert reasons(scored, stats_from=training) == ["too_short", ""]
