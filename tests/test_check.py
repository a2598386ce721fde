"""The `check` stage: every problem of params.yaml at once, before any work; trainers refuse bad ranges too."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from asl.check import check_params, params_problems
from asl.errors import AslError
from asl.params import load_params

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def params():
    return load_params(REPO / "params.yaml")


def replace(params, **sections):
    """`params` with fields of its sections replaced: replace(params, train={"epochs": 0})."""
    changes = {name: dataclasses.replace(getattr(params, name), **fields) for name, fields in sections.items()}
    return dataclasses.replace(params, **changes)


def test_the_repository_params_have_no_problem(params):
    assert params_problems(params) == []


def test_every_problem_is_reported_at_once(params):
    model = {**params.models["TransformerPredictor"], "dropout": 2.0,
             "optimizer": {"name": "Adam", "learning_rate": 0.0, "weight_decay": 0.0}}
    bad = replace(params, train={"epochs": 0, "batch_size": -1}, evaluate={"batch_size": 0},
                  augment={"probability": 1.5, "methods": ["shift", "normalize"]})
    bad = dataclasses.replace(bad, model="TransformerPredictor", models={**params.models, "TransformerPredictor": model})
    with pytest.raises(AslError) as error:
        check_params(bad, where="params.yaml")
    message = str(error.value)
    assert message.startswith("params.yaml: 7 problems:")
    for expected in ("train.epochs must be at least 1, got 0", "train.batch_size must be at least 1, got -1",
                     "evaluate.batch_size must be at least 1", "augment.probability must be a probability in [0, 1]",
                     "'normalize' is no longer an augmentation",
                     "models.TransformerPredictor.dropout must be a probability in [0, 1], got 2.0",
                     "models.TransformerPredictor.optimizer.learning_rate must be > 0, got 0.0"):
        assert expected in message


@pytest.mark.parametrize("metric, mode, wanted", [("loss", "max", "min"), ("accuracy", "min", "max"),
                                                  ("f1_macro", "min", "max"), ("recall_macro", "min", "max")])
def test_an_early_stopping_mode_against_its_metric_is_a_problem(params, metric, mode, wanted):
    early_stop = dataclasses.replace(params.train.early_stop, metric=metric, mode=mode)
    assert params_problems(replace(params, train={"early_stop": early_stop})) == [
        f"train.early_stop.mode is {mode!r} but {metric} improves towards {wanted!r}: set mode: {wanted}"]


def test_unknown_split_participants_are_named_against_the_index(params, gislr_sample):
    split = {"valid_participants": ["37779", "99"], "test_participants": ["2044", "4718", "12345"]}
    problems = params_problems(replace(params, split=split), gislr_sample)
    assert problems == [f"split.valid_participants: 99 not in {gislr_sample / 'train.csv'}",
                        f"split.test_participants: 12345 not in {gislr_sample / 'train.csv'}"]
    assert params_problems(replace(params, split=split), gislr_sample / "absent") == []  # no index yet: not checked


def test_a_trainer_called_with_no_epoch_says_so(params, tmp_path):
    from asl.training import torch_trainer
    from tests.training.test_lightning_trainer import toy_data

    with pytest.raises(AslError, match="train.epochs must be at least 1, got 0"):
        torch_trainer.train(replace(params, train={"epochs": 0}), toy_data(), tmp_path / "model.pt", tmp_path / "live",
                            tmp_path / "tb")


def test_the_check_stage_fails_with_one_error_line_per_problem_and_writes_nothing(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("epochs: 40", "epochs: 0").replace("  batch_size: 32",
                                                                                         "  batch_size: 0")
    (tmp_path / "params.yaml").write_text(text)
    out = tmp_path / "params_check.txt"
    result = subprocess.run([sys.executable, "stages/check.py", "--params", tmp_path / "params.yaml", "--out", out],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "train.epochs must be at least 1, got 0" in result.stderr and "train.batch_size" in result.stderr
    assert not out.exists()


def test_a_renamed_model_key_names_its_new_name(params):
    lstm = {**params.models["LSTMPredictor"], "layer_dim": 2}
    del lstm["num_layers"]
    transformer = {**params.models["TransformerPredictor"], "n_head": 4}
    del transformer["num_heads"]
    renamed = dataclasses.replace(params, model="LSTMPredictor",
                                  models={**params.models, "LSTMPredictor": lstm, "TransformerPredictor": transformer})
    assert params_problems(renamed) == ["models.LSTMPredictor.layer_dim was renamed to num_layers",
                                        "models.TransformerPredictor.n_head was renamed to num_heads"]


def test_the_check_stage_names_renamed_keys_of_an_older_params_file(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("models.LSTMPredictor.num_layers:",
                                                      "models.LSTMPredictor.layer_dim:")
    text = text.replace("model: Conv1DTransformer", "model: HybridModel").replace("      num_heads: 8\n",
                                                                                  "      n_head: 8\n", 1)
    (tmp_path / "params.yaml").write_text(text)
    out = tmp_path / "params_check.txt"
    result = subprocess.run([sys.executable, "stages/check.py", "--params", tmp_path / "params.yaml", "--out", out],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    for expected in ("models.HybridModel.transformer.n_head was renamed to num_heads",
                     "models.TransformerPredictor.n_head was renamed to num_heads",
                     "tune.space.LSTMPredictor: models.LSTMPredictor.layer_dim was renamed to "
                     "models.LSTMPredictor.num_layers"):
        assert expected in result.stderr
    assert not out.exists()
