"""`train.precision`, `train.compile` and the once-per-epoch metrics of the native PyTorch trainer (on a CPU)."""

import dataclasses

import numpy as np
import pytest
import torch

from asl.check import params_problems
from asl.data import augment
from asl.data.inputs import input_groups
from asl.errors import AslError
from asl.data.torch_dataset import batch_loader
from asl.training import torch_trainer
from asl.training.common import epoch_metrics
from asl.training.precision import MixedPrecision, compile_for_training, mixed_precision
from tests.test_params import write_params
from tests.training.test_lightning_trainer import toy_data, toy_params


def with_train(params, **changes):
    return dataclasses.replace(params, train=dataclasses.replace(params.train, **changes))


@pytest.mark.parametrize("written, read", [(32, "32"), ("bf16", "bf16"), ("16-mixed", "16-mixed")])
def test_precision_reads_as_written_in_yaml(tmp_path, written, read):
    from asl.params import load_params

    path = write_params(tmp_path, lambda raw: raw["train"].update(precision=written))
    assert load_params(path).train.precision == read


def test_an_unknown_precision_lists_the_choices(tmp_path):
    from asl.params import load_params

    with pytest.raises(AslError, match=r"train\.precision must be one of 32, bf16, 16-mixed, got 16"):
        load_params(write_params(tmp_path, lambda raw: raw["train"].update(precision=16)))


def test_bf16_on_the_cpu_trains_with_finite_metrics(tmp_path):
    params = with_train(toy_params("TransformerPredictor", "native"), precision="bf16", epochs=1)
    summary = torch_trainer.train(params, toy_data(), tmp_path / "model.pt", tmp_path / "live", tmp_path / "tb")
    values = [value for key, value in summary.items() if key.startswith("best_valid_")]
    assert len(values) == 5 and np.isfinite(values).all()
    state_dict = torch.load(tmp_path / "model.pt", weights_only=True)["state_dict"]
    assert all(tensor.dtype != torch.bfloat16 for tensor in state_dict.values())  # autocast: float32 weights


def test_16_mixed_on_the_cpu_is_a_clear_error(tmp_path):
    params = with_train(toy_params("TransformerPredictor", "native"), precision="16-mixed")
    with pytest.raises(AslError, match=r"train\.precision: 16-mixed needs a CUDA device, training runs on cpu"):
        torch_trainer.train(params, toy_data(), tmp_path / "model.pt", tmp_path / "live", tmp_path / "tb")
    with pytest.raises(AslError, match="16-mixed"):
        mixed_precision("16-mixed", torch.device("cpu"))


def test_tensorflow_refuses_the_pytorch_speed_settings():
    params = dataclasses.replace(with_train(toy_params("TransformerPredictor", "native"), precision="bf16",
                                            compile=True), framework="tensorflow")
    problems = params_problems(params)
    assert any(p.startswith("train.compile: true works with the native PyTorch trainer only") for p in problems)
    assert any(p.startswith("train.precision: bf16 works with the PyTorch trainers only") for p in problems)


def test_epoch_metrics_read_once_equal_the_per_step_computation(monkeypatch):
    """The epoch's metrics from logits kept on the device equal those from probabilities copied after each step."""
    params = toy_params("TransformerPredictor", "native")
    data = toy_data()
    torch.manual_seed(0)
    model = torch_trainer.build_model(params, torch_trainer.InputShape(*data.values.shape[1:]), 3)
    optimizer, _ = model.configure_optimizers()
    dataset = torch_trainer.LandmarkDataset(data.values, data.labels, data.train_rows)
    loader = batch_loader(dataset, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(0))
    per_step = {"labels": [], "probabilities": []}
    step = model.training_step

    def recording_step(x, mask, labels, optimizer, precision=None):
        loss, logits = step(x, mask, labels, optimizer, precision)
        per_step["labels"].append(labels.cpu().numpy())
        per_step["probabilities"].append(torch.softmax(logits, dim=1).cpu().numpy())  # the trainer's former way
        return loss, logits

    monkeypatch.setattr(model, "training_step", recording_step)
    metrics = torch_trainer.train_epoch(model, loader, optimizer, torch.device("cpu"), None, 0)
    assert len(per_step["labels"]) == 3
    assert metrics == epoch_metrics(np.concatenate(per_step["labels"]), np.concatenate(per_step["probabilities"]))


def test_a_model_that_cannot_compile_trains_eagerly_with_a_warning(capsys):
    params = toy_params("TransformerPredictor", "native")
    model = torch_trainer.build_model(params, torch_trainer.InputShape(8, 96, 2), 3)
    x, mask = torch.zeros(2, 8, 96, 2), torch.ones(2, 8, dtype=torch.bool)
    eager = model.predict_logits(x, mask)
    random_state = torch.get_rng_state()

    def failing_probe():
        torch.rand(3)  # a probe's random draws must not shift the run's random stream
        raise RuntimeError("no compiler here")

    assert not compile_for_training(model, failing_probe)
    assert "train.compile: torch.compile cannot compile TransformerPredictor here, training eagerly" in \
        capsys.readouterr().err
    assert model._compiled_call_impl is None and torch.equal(torch.get_rng_state(), random_state)
    torch.testing.assert_close(model.predict_logits(x, mask), eager, rtol=0, atol=0)


def test_train_compile_runs_every_epochs_augmentation_compiled(tmp_path, monkeypatch):
    """With `train.compile` the augmentation is compiled too: first on a probe batch of the training shape, then
    every epoch's augmenter runs the compiled steps (recorded here in place of torch.compile's; the model stays
    eager)."""
    shapes = []

    def recording_steps(values, *rest):
        shapes.append(tuple(values.shape))
        return augment.apply_steps(values, *rest)

    monkeypatch.setattr(augment, "compiled_steps", lambda: recording_steps)
    monkeypatch.setattr(torch_trainer, "compile_for_training", lambda model, probe: True)
    params = with_train(toy_params("TransformerPredictor", "native"), compile=True)
    torch_trainer.train(params, toy_data(), tmp_path / "model.pt", tmp_path / "live", tmp_path / "tb")
    assert shapes == [(8, 8, 96, 2)] * (1 + 2 * 3)  # the probe, then two epochs of three batches of 8


def test_an_augmentation_that_cannot_compile_runs_eagerly_with_a_warning(monkeypatch, capsys):
    def failing_steps(*args):
        torch.rand(3)  # a probe's random draws must not shift the run's random stream
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(augment, "compiled_steps", lambda: failing_steps)
    monkeypatch.setattr(torch_trainer, "compile_for_training", lambda model, probe: True)
    params = with_train(toy_params("TransformerPredictor", "native"), compile=True)
    data = toy_data()
    model = torch_trainer.build_model(params, torch_trainer.InputShape(*data.values.shape[1:]), 3)
    random_state = torch.get_rng_state()
    assert not torch_trainer.compile_training(model, params, MixedPrecision("cpu"), torch.device("cpu"),
                                              input_groups(data.values))
    assert "train.compile: torch.compile cannot compile the augmentation here, augmenting eagerly (RuntimeError: " \
        "no compiler here)" in capsys.readouterr().err
    assert torch.equal(torch.get_rng_state(), random_state)


def test_the_grad_scaler_is_saved_with_the_training_state_and_restored(tmp_path, monkeypatch):
    """16-mixed's GradScaler is training state: its loss scale is saved every epoch and restored by a resume (a
    CPU scaler stands in for CUDA's here)."""
    scalers = []

    def with_scaler(setting, device):
        scalers.append(torch.amp.GradScaler("cpu", init_scale=1024.0 if not scalers else 1.0))
        return MixedPrecision("cpu", None, scalers[-1])

    monkeypatch.setattr(torch_trainer, "mixed_precision", with_scaler)
    params = with_train(toy_params("TransformerPredictor", "native"), resume=True)
    for _ in range(2):  # the second run finds the first one's state and resumes it (nothing is left to train)
        torch_trainer.train(params, toy_data(), tmp_path / "model.pt", tmp_path / "live", tmp_path / "tb",
                            state_dir=tmp_path / "state")
    saved = torch.load(tmp_path / "state" / "state.pt", weights_only=False)["scaler"]
    assert saved["scale"] == 1024.0 and saved["_growth_tracker"] == 6  # two epochs of three steps, none overflowed
    assert scalers[1].get_scale() == 1024.0 and scalers[1].state_dict() == saved
