"""Train / validation / test splits: signer-independent by default (whole participants), or random by sign."""

from __future__ import annotations

import numpy as np
import pandas as pd

from asl.data.extra import is_extra
from asl.errors import AslError
from asl.params import SplitConfig

SPLITS = ("train", "valid", "test")


def assign_splits(meta: pd.DataFrame, config: SplitConfig, seed: int) -> np.ndarray:
    """The split name of each row of `meta` (columns participant_id, sign), deterministic for a seed.

    Rows of extra datasets (participant ids `extra:...`) always go to `train`.
    """
    sizes = (config.train_size, config.valid_size, config.test_size)
    if min(sizes) < 0 or not np.isclose(sum(sizes), 1.0):
        raise AslError(f"split.train_size + valid_size + test_size must be 1 and none negative, got {sizes}")
    rng = np.random.default_rng(seed)
    extra = is_extra(meta["participant_id"])  # extra datasets (data.extra_raw_dirs) are training data only
    result = np.full(len(meta), "train", dtype=object)
    own = meta[~extra]
    if config.strategy == "participant":
        result[~extra] = _split_by_participant(own["participant_id"].astype(str).to_numpy(), config, rng)
    else:
        result[~extra] = _split_by_sign(own["sign"].to_numpy(), config, rng)
    return result


def _split_by_participant(participants: np.ndarray, config: SplitConfig, rng: np.random.Generator) -> np.ndarray:
    known = sorted(set(participants))
    named = {"valid": [str(p) for p in config.valid_participants], "test": [str(p) for p in config.test_participants]}
    for split, names in named.items():
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise AslError(f"split.{split}_participants: {', '.join(unknown)} not in the data; "
                           f"participants are {', '.join(known)}")
    if set(named["valid"]) & set(named["test"]):
        raise AslError("split.valid_participants and split.test_participants overlap")
    free = [p for p in known if p not in named["valid"] + named["test"]]
    free = list(rng.permutation(free))
    group = {}
    for split, size in (("test", config.test_size), ("valid", config.valid_size)):
        if not named[split]:
            count = max(1, round(size * len(known))) if size > 0 else 0
            named[split], free = free[:count], free[count:]
        group.update(dict.fromkeys(named[split], split))
    if not free:
        raise AslError(f"{len(known)} participants are too few for a participant split with "
                       f"valid_size={config.valid_size} and test_size={config.test_size}: none left to train on")
    group.update(dict.fromkeys(free, "train"))
    return np.array([group[p] for p in participants], dtype=object)


def _split_by_sign(signs: np.ndarray, config: SplitConfig, rng: np.random.Generator) -> np.ndarray:
    """Stratified: within each sign, a shuffled share of its rows goes to each split."""
    result = np.full(len(signs), "train", dtype=object)
    for sign in sorted(set(signs)):
        rows = rng.permutation(np.flatnonzero(signs == sign))
        n_test, n_valid = round(config.test_size * len(rows)), round(config.valid_size * len(rows))
        result[rows[:n_test]] = "test"
        result[rows[n_test:n_test + n_valid]] = "valid"
    return result
