"""`train.deterministic`: a rerun on the same device gives the same metrics and weights (measured here on a CPU)."""

import dataclasses
import json
import os
from pathlib import Path

import pytest
import torch

from asl.training import torch_trainer
from tests.training.test_lightning_trainer import toy_data, toy_params


def run(tmp_path: Path, name: str, params, trainer=torch_trainer, checkpoint: str = "model.pt"):
    out = tmp_path / name
    trainer.train(params, toy_data(), out / checkpoint, out / "live", out / "tb")
    return json.loads((out / "live" / "metrics.json").read_text()), out / checkpoint


@pytest.fixture
def restore_torch_flags():
    yield
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.deterministic = False


def test_a_pytorch_rerun_repeats_metrics_and_weights(tmp_path, restore_torch_flags):
    params = toy_params("TransformerPredictor", "native")
    assert params.train.deterministic  # the default
    first, first_checkpoint = run(tmp_path, "first", params)
    second, second_checkpoint = run(tmp_path, "second", params)
    assert first == second
    weights = [torch.load(path, weights_only=True)["state_dict"] for path in (first_checkpoint, second_checkpoint)]
    for name, tensor in weights[0].items():
        torch.testing.assert_close(weights[1][name], tensor, rtol=0, atol=0)


@pytest.mark.parametrize("deterministic", [True, False])
def test_the_setting_chooses_deterministic_algorithms_and_cuda_settings(tmp_path, deterministic,
                                                                       restore_torch_flags, monkeypatch):
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    params = toy_params("TransformerPredictor", "native")
    params = dataclasses.replace(params, train=dataclasses.replace(params.train, epochs=1, deterministic=deterministic))
    run(tmp_path, "run", params)
    assert torch.are_deterministic_algorithms_enabled() is deterministic
    assert torch.backends.cudnn.deterministic is deterministic
    assert (os.environ.get("CUBLAS_WORKSPACE_CONFIG") == ":4096:8") is deterministic


def test_a_tensorflow_rerun_repeats_metrics(tmp_path):
    pytest.importorskip("tensorflow")

    from asl.training import tf_trainer

    params = dataclasses.replace(toy_params("TransformerPredictor", "native"), framework="tensorflow")
    first, _ = run(tmp_path, "first", params, tf_trainer, "model.keras")
    second, _ = run(tmp_path, "second", params, tf_trainer, "model.keras")
    assert first == second
