"""Train / validation / test splits: signer-independent by default (whole participants), participant-grouped k-fold,
or random by sign; and the split stage's table of which recording is used where, and why the others are not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from asl.data.extra import is_extra
from asl.data.quality import LengthStats, quality_problems
from asl.errors import AslError
from asl.params import CleanConfig, SplitConfig

SPLITS = ("train", "valid", "test")
SPLIT_COLUMNS = ("path", "participant_id", "sequence_id", "sign", "split", "dropped", "detail")


def split_problems(config: SplitConfig) -> list[str]:
    """Everything wrong with the split settings on their own, one message per problem (empty: fine)."""
    problems = []
    sizes = (config.train_size, config.valid_size, config.test_size)
    if min(sizes) < 0 or not np.isclose(sum(sizes), 1.0):
        problems.append(f"split.train_size + valid_size + test_size must be 1 and none negative, got {sizes}")
    if config.folds < 2:
        problems.append(f"split.folds must be at least 2, got {config.folds}")
    elif not 0 <= config.fold < config.folds:
        problems.append(f"split.fold must be in 0..{config.folds - 1} (split.folds={config.folds}), got {config.fold}")
    if config.strategy == "group_kfold" and config.test_participants:
        problems.append("split.test_participants must be empty with split.strategy=group_kfold "
                        "(split.fold chooses the test participants)")
    return problems


def assign_splits(table: pd.DataFrame, config: SplitConfig, seed: int, usable: np.ndarray | None = None) -> np.ndarray:
    """The split name of each row of `table` (columns participant_id, sign), deterministic for a seed.

    Participants are drawn from those with a `usable` row (all rows by default); every row of a participant goes
    where the participant goes (participants with nothing usable: train). A random split draws usable and unusable
    rows separately, so both are spread alike. Rows of extra datasets (participant ids `extra:...`) always go to
    `train`.
    """
    problems = split_problems(config)
    if problems:
        raise AslError("; ".join(problems))
    usable = np.ones(len(table), dtype=bool) if usable is None else np.asarray(usable, dtype=bool)
    rng = np.random.default_rng(seed)
    own = ~is_extra(table["participant_id"])  # extra datasets (data.extra_raw_dirs) are training data only
    result = np.full(len(table), "train", dtype=object)
    if config.strategy == "random":
        signs = table["sign"].to_numpy()
        for rows in (np.flatnonzero(own & usable), np.flatnonzero(own & ~usable)):
            result[rows] = _split_by_sign(signs[rows], config, rng)
        return result
    participants = table["participant_id"].astype(str).to_numpy()
    known = sorted(set(participants[own & usable]))
    if config.strategy == "participant":
        group = _split_by_participant(known, config, rng)
    else:
        group = _split_by_fold(known, config, rng)
    result[own] = [group.get(p, "train") for p in participants[own]]
    return result


def _named_participants(known: list[str], config: SplitConfig) -> dict[str, list[str]]:
    named = {"valid": [str(p) for p in config.valid_participants], "test": [str(p) for p in config.test_participants]}
    for split, names in named.items():
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise AslError(f"split.{split}_participants: {', '.join(unknown)} not in the data (no usable "
                           f"recording); participants are {', '.join(known)}")
    if set(named["valid"]) & set(named["test"]):
        raise AslError("split.valid_participants and split.test_participants overlap")
    return named


def _count(size: float, participants: int) -> int:
    return max(1, round(size * participants)) if size > 0 else 0


def _split_by_participant(known: list[str], config: SplitConfig, rng: np.random.Generator) -> dict[str, str]:
    named = _named_participants(known, config)
    free = list(rng.permutation([p for p in known if p not in named["valid"] + named["test"]]))
    for split, size in (("test", config.test_size), ("valid", config.valid_size)):
        if not named[split]:
            count = _count(size, len(known))
            named[split], free = free[:count], free[count:]
    return _groups(named, free, known, f"participant split with valid_size={config.valid_size} and "
                   f"test_size={config.test_size}")


def _split_by_fold(known: list[str], config: SplitConfig, rng: np.random.Generator) -> dict[str, str]:
    """Fold `config.fold` of `config.folds` (participants shuffled once by the seed) is the test set; validation
    participants (named, or `valid_size` of all) come from the other folds."""
    if len(known) < config.folds:
        raise AslError(f"split.folds={config.folds} needs at least that many participants, the data has {len(known)}")
    order = [str(p) for p in rng.permutation(known)]
    test = [str(p) for p in np.array_split(np.array(order, dtype=object), config.folds)[config.fold]]
    named = _named_participants(known, config)
    inside = sorted(set(named["valid"]) & set(test))
    if inside:
        raise AslError(f"split.valid_participants: {', '.join(inside)} are in test fold {config.fold}")
    free = [p for p in order if p not in test + named["valid"]]
    if not named["valid"]:
        count = _count(config.valid_size, len(known))
        named["valid"], free = free[:count], free[count:]
    return _groups({"test": test, "valid": named["valid"]}, free, known,
                   f"group_kfold split with split.folds={config.folds} and valid_size={config.valid_size}")


def _groups(named: dict[str, list[str]], free: list[str], known: list[str], settings: str) -> dict[str, str]:
    if not free:
        raise AslError(f"{len(known)} participants are too few for a {settings}: none left to train on")
    return {**dict.fromkeys(free, "train"), **dict.fromkeys(named["valid"], "valid"),
            **dict.fromkeys(named["test"], "test")}


def _split_by_sign(signs: np.ndarray, config: SplitConfig, rng: np.random.Generator) -> np.ndarray:
    """Stratified: within each sign, a shuffled share of its rows goes to each split."""
    result = np.full(len(signs), "train", dtype=object)
    for sign in sorted(set(signs)):
        rows = rng.permutation(np.flatnonzero(signs == sign))
        n_test, n_valid = round(config.test_size * len(rows)), round(config.valid_size * len(rows))
        result[rows[:n_test]] = "test"
        result[rows[n_test:n_test + n_valid]] = "valid"
    return result


@dataclass(frozen=True)
class SplitResult:
    table: pd.DataFrame  # one row per recording: SPLIT_COLUMNS; `dropped` is a reason code, "" when used
    report: dict  # clean_report.json: per split, rows, kept, dropped per reason, examples


def split_recordings(recordings: pd.DataFrame, split_config: SplitConfig, clean_config: CleanConfig,
                     seed: int) -> SplitResult:
    """Assign every recording (the clean stage's table) a split; drop training rows by the quality rules, with
    statistics from training rows. Validation and test rows lose only recordings whose file is unusable."""
    usable = (recordings["problem"] == "").to_numpy()
    split = assign_splits(recordings, split_config, seed, usable)
    dropped = recordings["problem"].to_numpy(dtype=object).copy()
    detail = recordings["detail"].to_numpy(dtype=object).copy()
    training = np.flatnonzero(usable & (split == "train"))
    rows = recordings.iloc[training]
    dropped[training], detail[training] = quality_problems(rows, LengthStats.of(rows), clean_config)
    table = recordings.assign(split=split, dropped=dropped, detail=detail)[list(SPLIT_COLUMNS)]
    return SplitResult(table, split_report(table, split_config.strategy, clean_config.max_dropped_examples))


def split_report(table: pd.DataFrame, strategy: str, max_examples: int) -> dict:
    """What was kept and dropped, in total and per split, with up to `max_examples` examples per reason."""

    def counts(part: pd.DataFrame) -> dict:
        reasons = part["dropped"][part["dropped"] != ""]
        return {"rows": len(part), "kept": int((part["dropped"] == "").sum()),
                "dropped": {reason: int(n) for reason, n in reasons.value_counts().sort_index().items()}}

    splits = {}
    for name in SPLITS:
        part = table[table["split"] == name]
        examples = {
            reason: part[part["dropped"] == reason].head(max_examples)[["path", "participant_id", "sign", "detail"]]
            .to_dict("records")
            for reason in counts(part)["dropped"]
        }
        splits[name] = {**counts(part), "participants": int(part["participant_id"].nunique()), "examples": examples}
    total = counts(table)
    return {"split_strategy": strategy, "n_index_rows": total["rows"], "n_kept": total["kept"],
            "dropped": total["dropped"], "quality_rules": "training rows only, statistics from training rows",
            "splits": splits}
