"""asl exps: rows and table from `dvc exp show --json` (dvc_exp_show.json: a real run's output, trimmed to a few
params and metrics: a baseline, two finished experiments, one queued, one failed, the workspace on the last)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from asl.experiments import ExperimentRow, experiment_rows, render_rows

RECORDS = json.loads((Path(__file__).parent / "dvc_exp_show.json").read_text())


def test_each_experiment_with_the_params_it_changed_from_its_baseline():
    rows = experiment_rows(RECORDS)
    assert [(row.name, row.status, row.changed) for row in rows] == [
        ("workspace", "", ["model=LSTMPredictor", "train.batch_size=8", "train.epochs=3"]),  # against master
        ("master", "", []),
        ("  longer", "", ["model=LSTMPredictor", "train.batch_size=8", "train.epochs=3"]),
        ("  lstm", "", ["model=LSTMPredictor"]),
        ("  waiting", "queued", ["model=LSTMPredictor", "train.batch_size=8", "train.epochs=5"]),
        ("  broken", "failed", ["model=NoSuchModel", "train.batch_size=8", "train.epochs=3"]),
    ]
    assert rows[1].accuracy == 0.0 and rows[1].ci95 == (0.0, 0.0)
    assert rows[4].accuracy is None  # queued: no metrics yet


def test_the_table_fits_100_columns_and_wraps_the_changed_params():
    text = render_rows(experiment_rows(RECORDS))
    assert text.splitlines()[:5] == [
        "experiment              accuracy  95% CI            changed params",
        "workspace                 0.0000  [0.0000, 0.0000]  model=LSTMPredictor train.batch_size=8",
        "                                                    train.epochs=3",
        "master                    0.0000  [0.0000, 0.0000]",
        "  longer                  0.0000  [0.0000, 0.0000]  model=LSTMPredictor train.batch_size=8",
    ]
    assert "  waiting                 queued                    model=LSTMPredictor" in text
    assert "  broken                  failed                    model=NoSuchModel" in text
    assert max(map(len, text.splitlines())) <= 100


def test_no_interval_with_one_test_participant_and_unset_or_list_params():
    records = copy.deepcopy(RECORDS)
    lstm = records[1]["experiments"][1]["revs"][0]["data"]
    lstm["metrics"]["metrics/eval.json"]["data"].update(accuracy=0.75, accuracy_ci95_low=None,
                                                        accuracy_ci95_high=None)
    params = lstm["params"]["params.yaml"]["data"]
    del params["seed"]
    params["signs"] = ["hello", "bye"]
    row = experiment_rows(records)[3]
    assert row == ExperimentRow("  lstm", "", 0.75, None,
                                ['model=LSTMPredictor', "seed=(unset)", 'signs=["hello","bye"]'])
    assert render_rows([row]).splitlines()[1:] == [
        "  lstm                    0.7500                    model=LSTMPredictor seed=(unset)",
        '                                                    signs=["hello","bye"]',
    ]
