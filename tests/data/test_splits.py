import numpy as np
import pandas as pd
import pytest

from asl.data.splits import assign_splits
from asl.errors import AslError
from asl.params import SplitConfig


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
