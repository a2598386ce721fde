"""The search space is checked before any trial; a best configuration goes back into params.yaml both ways."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
import yaml

from asl.errors import AslError
from asl.models.registry import model_names
from asl.params import load_params
from asl.tune.best import apply_params, dvc_set_arguments, read_best_params, write_best_params
from asl.tune.space import model_space, validate_space, with_overrides

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def params():
    return load_params(REPO / "params.yaml")


def test_repository_space_covers_the_pytorch_models_and_validates(params):
    space = params.tune.space
    assert {"TransformerPredictor", "LSTMPredictor"} <= set(space)
    registered = model_names("pytorch")
    for name in space:
        assert name in registered, f"tune.space.{name} is not a registered model"
        validate_space(params, space[name], f"tune.space.{name}")
        keys = set(space[name])
        assert f"models.{name}.optimizer.learning_rate" in keys and "augment.probability" in keys
    assert model_space(params) == space[params.model]


@pytest.mark.parametrize("key, distribution, message", [
    ("models.TransformerPredictor.optimizer.learnig_rate", {"type": "uniform", "low": 0.1, "high": 0.2},
     "unknown parameter 'models.TransformerPredictor.optimizer.learnig_rate'"),
    ("augment.probability", {"type": "normal", "low": 0.1, "high": 0.2}, "unknown distribution type 'normal'"),
    ("augment.probability", {"type": "uniform", "low": 0.3, "high": 0.3}, "empty range, low (0.3) must be below"),
    ("augment.probability", {"type": "uniform", "low": 0.1}, "missing high"),
    ("models.TransformerPredictor.num_layers", {"type": "choice", "values": []}, "non-empty list"),
    ("models.TransformerPredictor.num_layers", {"type": "randint", "low": 4, "high": 2}, "empty range"),
    ("models.TransformerPredictor.num_layers", {"type": "uniform", "low": 1, "high": 4},
     "num_layers must be of type int, got 1.0"),
    ("models.TransformerPredictor.optimizer.weight_decay", {"type": "loguniform", "low": 0, "high": 1},
     "loguniform needs low > 0"),
    ("augment", {"type": "uniform", "low": 0.1, "high": 0.2}, "a section of params, not a value"),
])
def test_bad_space_entries_name_the_entry(params, key, distribution, message):
    with pytest.raises(AslError, match="tune.space.TransformerPredictor.") as error:
        validate_space(params, {key: distribution}, "tune.space.TransformerPredictor")
    assert message in str(error.value)


def test_unknown_model_in_space_lists_the_registered_ones(params):
    tune = dataclasses.replace(params.tune, space={**params.tune.space, "Nope": {}})
    with pytest.raises(AslError, match="tune.space.Nope: no such pytorch model; models are: .*LSTMPredictor"):
        model_space(dataclasses.replace(params, tune=tune))


def test_overrides_give_validated_params(params):
    trial = with_overrides(params, {"augment.probability": 0.25, "models.LSTMPredictor.num_layers": 2})
    assert trial.augment.probability == 0.25 and trial.models["LSTMPredictor"]["num_layers"] == 2
    assert params.augment.probability != 0.25  # the original is untouched


BEST = {"models.TransformerPredictor.optimizer.learning_rate": 0.0012345678901234,
        "models.TransformerPredictor.num_layers": 2, "augment.probability": 0.3, "train.device": "cpu",
        "data.raw_dir": "data/raw/it's true"}


def test_best_params_apply_to_params_yaml_keeping_comments(tmp_path):
    fragment = write_best_params(BEST, tmp_path / "best.yaml", "best of 2 trials\napply with: asl apply-params")
    assert read_best_params(fragment) == BEST
    target = shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    assert apply_params(fragment, target) == BEST
    applied = load_params(target)
    assert applied.models["TransformerPredictor"]["optimizer"]["learning_rate"] == BEST[
        "models.TransformerPredictor.optimizer.learning_rate"]
    assert applied.models["TransformerPredictor"]["num_layers"] == 2 and applied.augment.probability == 0.3
    assert "# Every tunable value of the pipeline" in Path(target).read_text()


def test_dvc_set_arguments_are_what_dvc_exp_run_applies(tmp_path):
    from dvc.utils.hydra import apply_overrides  # what `dvc exp run -S` calls

    target = shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    arguments = dvc_set_arguments(BEST)
    assert arguments[0] == "models.TransformerPredictor.optimizer.learning_rate=0.0012345678901234"
    apply_overrides(target, arguments)
    applied = load_params(target)
    assert applied.models["TransformerPredictor"]["optimizer"]["learning_rate"] == pytest.approx(0.0012345678901234)
    assert applied.train.device == "cpu" and applied.models["TransformerPredictor"]["num_layers"] == 2
    assert applied.data.raw_dir == "data/raw/it's true" and applied.sample.signs[3:5] == ["yes", "no"]


def test_bad_fragment_leaves_params_untouched(tmp_path):
    target = shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    before = Path(target).read_text()
    for fragment, message in [({"train.epochs": "many"}, "train.epochs must be of type int"),
                              ({"train.epocs": 3}, "unknown parameter 'train.epocs'")]:
        path = tmp_path / "fragment.yaml"
        path.write_text(yaml.safe_dump(fragment))
        with pytest.raises(AslError, match=message):
            apply_params(path, target)
        assert Path(target).read_text() == before
    assert not list(tmp_path.glob(".*tmp*"))


def test_asl_help_imports_no_framework():
    import subprocess
    import sys

    code = ("import sys; from asl.cli import app; "
            "print(sorted({'ray', 'mlflow', 'optuna', 'torch', 'matplotlib'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr
