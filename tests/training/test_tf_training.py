"""TensorFlow through the stages: same data, split and augmentations as PyTorch, the same eval.json keys."""

import json
import subprocess
import sys

import pytest
import yaml

from tests.test_pipeline import EVAL_KEYS, REPO, run_pipeline, run_stage, small_params

pytest.importorskip("tensorflow")


def test_stages_train_and_evaluate_a_tensorflow_model(tmp_path):
    params = small_params(tmp_path, framework="tensorflow")
    settings = yaml.safe_load(params.read_text())
    settings["models"]["TransformerPredictor"]["optimizer"]["learning_rate"] = 0.003  # fewer epochs on 2 CPUs
    params.write_text(yaml.safe_dump(settings, sort_keys=False))
    assert run_stage("sample", "--params", params, "--out", tmp_path / "raw").returncode == 0
    metrics = run_pipeline(params, tmp_path / "raw", tmp_path)
    assert set(metrics) == EVAL_KEYS and metrics["split_strategy"] == "participant"
    assert metrics["accuracy"] > 0.6, metrics  # chance is 1/3 on three signs
    assert sorted(path.name for path in (tmp_path / "model").iterdir()) == ["extras.json", "model.keras"]
    extras = json.loads((tmp_path / "model" / "extras.json").read_text())
    assert extras["params"]["framework"] == "tensorflow" and extras["signs"][:2] == ["TV", "after"]
    live = json.loads((tmp_path / "dvclive" / "metrics.json").read_text())
    assert set(live["valid"]) == {"loss", "accuracy", "f1_macro", "precision_macro", "recall_macro"}
    assert live["best_epoch"] == extras["epoch"]
    assert any(path.name.startswith("events.out.tfevents") for path in (tmp_path / "runs").iterdir())


def test_a_pytorch_run_never_imports_tensorflow(tmp_path):
    code = (
        "import sys; import asl.training.run, asl.inference.predictor, asl.cli, asl.training.torch_trainer\n"
        "from asl.models.registry import model_names; model_names('pytorch')\n"
        "from asl.training.logging import EpochLogger\n"
        f"logger = EpochLogger({str(tmp_path / 'live')!r}, {str(tmp_path / 'runs')!r})\n"
        "logger.log_epoch(0, {'valid': {'accuracy': 0.5}}, 0.001); logger.close({'best_epoch': 0})\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'tensorflow was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert list((tmp_path / "runs").glob("events.out.tfevents.*"))  # TensorBoard logs without TF or torch
