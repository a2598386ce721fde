import numpy as np
import pandas as pd
import pytest

from asl.data.splits import assign_splits, split_problems, split_recordings
from asl.errors import AslError
from asl.params import CleanConfig, SplitConfig


def meta(participants: int = 10, signs: int = 4, repetitions: int = 5) -> pd.DataFrame:
    rows = [(str(1000 + p), f"sign{s}") for p in range(participants) for s in range(signs) for _ in range(repetitions)]
    return pd.DataFrame(rows, columns=["participant_id", "sign"])


def config(**changes) -> SplitConfig:
    settings = dict(strategy="participant", train_size=0.8, valid_size=0.1, test_size=0.1,
                    valid_participants=[], test_participants=[])
    return SplitConfig(**{**settings, **changes})


def test_participant_split_keeps_each_signer_in_one_split():
    table = meta()
    split = assign_splits(table, config(), seed=0)
    per_participant = pd.Series(split).groupby(table["participant_id"]).nunique()
    assert (per_participant == 1).all()
    counts = pd.Series(split).groupby(table["participant_id"]).first().value_counts()
    assert counts.to_dict() == {"train": 8, "valid": 1, "test": 1}
    assert np.array_equal(split, assign_splits(table, config(), seed=0))  # deterministic
    assert not np.array_equal(split, assign_splits(table, config(), seed=1))


def test_named_participants_are_honoured_and_checked():
    table = meta()
    split = assign_splits(table, config(test_participants=["1003", "1004"], valid_participants=["1009"]), seed=0)
    assert set(table["participant_id"][split == "test"]) == {"1003", "1004"}
    assert set(table["participant_id"][split == "valid"]) == {"1009"}
    with pytest.raises(AslError, match=r"split\.test_participants: 42 not in the data"):
        assign_splits(table, config(test_participants=["42"]), seed=0)


def test_random_split_is_stratified_by_sign():
    table = meta(participants=4, repetitions=10)
    split = assign_splits(table, config(strategy="random"), seed=0)
    per_sign = pd.crosstab(table["sign"], split)
    assert (per_sign["test"] == 4).all() and (per_sign["valid"] == 4).all()


def test_bad_fractions_and_too_few_participants():
    with pytest.raises(AslError, match="must be 1"):
        assign_splits(meta(), config(train_size=0.9), seed=0)
    with pytest.raises(AslError, match="too few for a participant split"):
        assign_splits(meta(participants=2), config(), seed=0)


def test_group_kfold_tests_each_participant_once_and_validates_on_others():
    table = meta(participants=10)
    tested = []
    for fold in range(5):
        split = assign_splits(table, config(strategy="group_kfold", folds=5, fold=fold), seed=0)
        groups = pd.Series(split).groupby(table["participant_id"]).first()
        assert (pd.Series(split).groupby(table["participant_id"]).nunique() == 1).all()
        assert groups.value_counts().to_dict() == {"train": 7, "test": 2, "valid": 1}
        tested += list(groups[groups == "test"].index)
        again = assign_splits(table, config(strategy="group_kfold", folds=5, fold=fold), seed=0)
        assert np.array_equal(split, again)  # deterministic for a seed
    assert sorted(tested) == sorted(table["participant_id"].unique())  # the folds partition the participants
    other_seed = assign_splits(table, config(strategy="group_kfold", folds=5, fold=0), seed=1)
    assert not np.array_equal(other_seed, assign_splits(table, config(strategy="group_kfold", folds=5, fold=0), 0))


def test_group_kfold_settings_are_checked():
    with pytest.raises(AslError, match=r"split\.fold must be in 0\.\.4 \(split\.folds=5\), got 5"):
        assign_splits(meta(), config(strategy="group_kfold", folds=5, fold=5), seed=0)
    assert split_problems(config(fold=-1)) == ["split.fold must be in 0..4 (split.folds=5), got -1"]
    assert split_problems(config(folds=1)) == ["split.folds must be at least 2, got 1"]
    assert "split.test_participants must be empty" in split_problems(
        config(strategy="group_kfold", test_participants=["1001"]))[0]
    with pytest.raises(AslError, match="split.folds=12 needs at least that many participants, the data has 10"):
        assign_splits(meta(), config(strategy="group_kfold", folds=12, fold=0), seed=0)


def test_participants_come_from_usable_rows_and_take_their_unusable_rows_along():
    table = meta(participants=10, signs=1, repetitions=2)
    usable = ~table["participant_id"].isin(["1000", "1001"]).to_numpy()  # a partial download
    split = assign_splits(table, config(), seed=0, usable=usable)
    assert set(split[~usable]) == {"train"}  # participants with nothing usable are never valid or test
    assert pd.Series(split[usable]).value_counts().to_dict() == {"train": 12, "valid": 2, "test": 2}
    usable[0] = False  # one unreadable file of a participant that has others: goes where its participant goes
    assert np.array_equal(assign_splits(table, config(), seed=0, usable=usable), split)


def recordings(**changes) -> pd.DataFrame:
    """Ten participants, two signs, five recordings each of 20 frames, all usable."""
    table = meta(participants=10, signs=2, repetitions=5)
    table = table.assign(path=[f"p/{i}.parquet" for i in range(len(table))], sequence_id=[str(i) for i in
                         range(len(table))], frames=20, usable_frames=20, longest_missing_run=0, problem="", detail="")
    return table.assign(**changes)


CLEAN = CleanConfig(min_frames=3, max_consecutive_missing=60, min_length_ratio=0.5, max_length_std=2.0,
                    max_dropped_examples=2)


def test_quality_rules_drop_training_rows_only_and_the_test_split_is_whole():
    table = recordings()
    split = assign_splits(table, config(), seed=0)
    # In every split: a recording with no hand at all, a very short one, a very long one, an unreadable file.
    for name in ("train", "valid", "test"):
        first, second, third, fourth = np.flatnonzero(split == name)[:4]
        table.loc[first, ["usable_frames", "longest_missing_run"]] = (0, 20)
        table.loc[second, ["frames", "usable_frames"]] = (4, 4)
        table.loc[third, ["frames", "usable_frames"]] = (200, 200)
        table.loc[fourth, ["problem", "detail"]] = ("unreadable_file", "not a readable parquet file")
    result = split_recordings(table, config(), CLEAN, seed=0)
    assert list(result.table.columns) == ["path", "participant_id", "sequence_id", "sign", "split", "dropped",
                                          "detail"]
    assert np.array_equal(result.table["split"], split)
    dropped = result.table.groupby("split")["dropped"].apply(lambda d: sorted(d[d != ""]))
    assert dropped["train"] == ["length_outlier", "too_few_frames", "too_short", "unreadable_file"]
    assert dropped["valid"] == dropped["test"] == ["unreadable_file"]
    test = result.report["splits"]["test"]
    assert test == {**test, "rows": 10, "kept": 9, "dropped": {"unreadable_file": 1}, "participants": 1}
    assert result.report["dropped"] == {"length_outlier": 1, "too_few_frames": 1, "too_short": 1,
                                        "unreadable_file": 3}
    assert result.report["n_kept"] == 100 - 6
    assert result.report["splits"]["train"]["examples"]["too_short"][0]["detail"].startswith("4 frames < 0.5 x")


def test_length_statistics_come_from_training_rows():
    table = recordings()
    split = assign_splits(table, config(), seed=0)
    table.loc[split == "test", "frames"] = 2000  # if test rows fed the statistics, training rows would look short
    result = split_recordings(table, config(), CLEAN, seed=0)
    assert (result.table["dropped"] == "").all()
