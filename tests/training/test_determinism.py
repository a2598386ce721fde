"""`train.deterministic`: a rerun on the same device gives the same metrics and weights (on the CPU here; the CUDA
cases run where a GPU is: `pytest -m gpu`)."""

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from asl.data.inputs import input_groups
from asl.params import load_params
from asl.training import torch_trainer
from asl.training.common import TrainingData
from asl.training.precision import mixed_precision
from tests.training.test_lightning_trainer import REPO, toy_data, toy_params


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


def default_model_epoch(device: str, precision: str, data: TrainingData | None = None,
                        store_on_device: bool = False) -> tuple[dict, dict]:
    """One seeded epoch of the default model through the trainer's own loader, batched augmentation and
    `train_epoch` on `device` (of `data`, by default `toy_data`): (the epoch's metrics, the weights after it)."""
    params = toy_params(load_params(REPO / "params.yaml").model, "native")
    params = dataclasses.replace(params, train=dataclasses.replace(params.train, device=device, precision=precision,
                                                                   store_on_device=store_on_device))
    params = dataclasses.replace(params, augment=dataclasses.replace(params.augment, probability=0.5))
    torch_trainer.seed_everything(params.seed, params.train.deterministic)
    data, target = data or toy_data(), torch.device(device)
    model = torch_trainer.build_model(params, torch_trainer.InputShape(*data.values.shape[1:]), 3).to(target)
    optimizer, _ = model.configure_optimizers()
    loader = torch_trainer.training_loader(torch_trainer.LandmarkDataset(data.values, data.labels, data.train_rows),
                                           params, torch.Generator().manual_seed(params.seed), target)
    augmenter = torch_trainer.apply_callbacks(model, 0, params, input_groups(data.values))
    metrics = torch_trainer.train_epoch(model, loader, optimizer, target, None, 0,
                                        mixed_precision(precision, target), augmenter)
    return metrics, {name: tensor.cpu() for name, tensor in model.state_dict().items()}


@pytest.mark.parametrize("precision", ["32", "bf16"])
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_an_epoch_of_the_default_model_repeats_on_its_device(device, precision, restore_torch_flags):
    """Same seed, same device: the same metrics and bit-identical weights, augmentation and autocast included
    (on CUDA too, where that needs the deterministic settings: run on a GPU with `pytest -m gpu`)."""
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device here")
    (first_metrics, first), (second_metrics, second) = (default_model_epoch(device, precision) for _ in range(2))
    assert first_metrics == second_metrics
    for name, tensor in first.items():
        torch.testing.assert_close(second[name], tensor, rtol=0, atol=0)


def toy_store_data(tmp_path: Path, write_landmarks, random_landmarks) -> TrainingData:
    """The default model's inputs of a store of 30 recordings of 1 to 40 frames, of three signs."""
    from asl.data.inputs import InputPipeline, StoreInputs, input_transform
    from asl.data.preprocess import StoreLayout
    from tests.data.test_store import config, write_store

    recordings = [random_landmarks(1 + (7 * n) % 40, seed=n) for n in range(30)]
    for recording in recordings[::4]:
        recording[: len(recording) // 2, 468:] = np.nan  # a first half without hands and pose
    _, store = write_store(tmp_path, write_landmarks, recordings, config(drop_frames="empty"))
    params = toy_params(load_params(REPO / "params.yaml").model, "native")
    inputs = StoreInputs(store, InputPipeline(StoreLayout.of(config(), ("x", "y")), input_transform(params)))
    return TrainingData(inputs, np.arange(30) % 3, np.arange(20), np.arange(20, 30), ["a", "b", "c"])


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_an_epoch_from_the_store_on_the_device_is_the_loaders_epoch(device, tmp_path, write_landmarks,
                                                                   random_landmarks, restore_torch_flags):
    """`train.store_on_device` changes where batches are gathered, not what they hold: the same epoch."""
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device here")
    data = toy_store_data(tmp_path, write_landmarks, random_landmarks)
    (loader_metrics, loader_weights), (metrics, weights) = (
        default_model_epoch(device, "32", data, store_on_device) for store_on_device in (False, True))
    assert metrics == loader_metrics
    for name, tensor in loader_weights.items():
        torch.testing.assert_close(weights[name], tensor, rtol=0, atol=0)
