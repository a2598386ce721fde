"""asl cv-summary's reading of DVC's experiment records (the shape `dvc exp show --json` prints)."""

from __future__ import annotations

import pytest

from asl.errors import AslError
from asl.evaluation.cv_summary import fold_runs, summarise


def experiment(name: str, fold: int, accuracy: float, epochs: int = 2, strategy: str = "group_kfold",
               timestamp: str = "2026-01-01T00:00:00") -> dict:
    params = {"model": "LSTMPredictor", "train": {"epochs": epochs},
              "split": {"strategy": strategy, "folds": 3, "fold": fold}}
    metrics = {"accuracy": accuracy, "accuracy_ci95": [0.1, 0.9], "split_strategy": strategy, "n_test": 10,
               "per_participant": {"1": accuracy}}
    data = {"timestamp": timestamp, "params": {"params.yaml": {"data": params}},
            "metrics": {"metrics/eval.json": {"data": metrics}}}
    return {"name": name, "revs": [{"rev": "0" * 40, "name": name, "data": data, "error": None}]}


def test_mean_and_sample_std_over_the_folds_of_each_setting():
    records = [{"rev": "workspace", "data": {}}, {"rev": "abc", "experiments": [
        experiment("a", 0, 0.6), experiment("b", 1, 0.8), experiment("old", 1, 0.1, timestamp="2025-01-01T00:00:00"),
        experiment("c", 0, 0.5, epochs=5), experiment("random", 2, 0.99, strategy="random"),
    ]}]
    text = summarise(fold_runs(records)).split("\n\n")
    assert text[0].splitlines()[:3] == [
        "2 of 3 folds (LSTMPredictor; train.epochs=2): fold 0 = a, fold 1 = b",  # the newest run of fold 1
        "missing folds: 2",
        "accuracy                 0.7000 ± 0.1414",
    ]
    assert "n_test                   10.0000 ± 0.0000" in text[0] and "per_participant" not in text[0]
    assert text[1].splitlines()[0] == "1 of 3 folds (LSTMPredictor; train.epochs=5): fold 0 = c"
    assert "accuracy                 0.5000 ± n/a" in text[1]


def test_no_fold_experiment_is_a_clear_error():
    with pytest.raises(AslError, match="no finished group_kfold experiment"):
        summarise(fold_runs([{"rev": "abc", "experiments": [experiment("r", 0, 0.5, strategy="random")]}]))
