"""A model trains with the dropout its params configure: the dynamic-dropout schedule starts from it."""

import dataclasses

import pytest
import torch

from asl.params import DropoutScheduleConfig
from asl.training import lightning_trainer, torch_trainer
from tests.training.test_lightning_trainer import toy_data, toy_params


def torch_rates(model: torch.nn.Module) -> list[float]:
    return sorted({float(m.p) for m in model.modules() if isinstance(m, torch.nn.Dropout)}
                  | {float(m.dropout) for m in model.modules() if isinstance(m, torch.nn.MultiheadAttention)})


@pytest.mark.parametrize("engine, schedule", [("native", True), ("native", False), ("lightning", True)])
def test_a_torch_model_trains_with_its_configured_dropout(tmp_path, monkeypatch, engine, schedule):
    params = toy_params("TransformerPredictor", engine)
    models = {"TransformerPredictor": {**params.models["TransformerPredictor"], "dropout": 0.25}}
    dropout = DropoutScheduleConfig(enabled=schedule, factor=2.0, max_rate=0.4, interval=1)
    params = dataclasses.replace(params, models=models,
                                 callbacks=dataclasses.replace(params.callbacks, dropout=dropout))
    trainer = lightning_trainer if engine == "lightning" else torch_trainer
    build, built, seen = torch_trainer.build_model, [], []
    monkeypatch.setattr(trainer, "build_model", lambda *args: built.append(build(*args)) or built[0])
    trainer.train(params, toy_data(), tmp_path / "model.pt", tmp_path / "live", tmp_path / "tb",
                  on_epoch_end=lambda epoch, metrics: seen.append(torch_rates(built[0])))
    assert seen == ([[0.25], [0.4]] if schedule else [[0.25], [0.25]])  # epoch 1: 0.25 * 2, capped at 0.4


def test_a_tensorflow_model_trains_with_its_configured_dropout_in_one_traced_step(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    from asl.models.tf.base import ScheduledDropout
    from asl.training import tf_trainer

    params = toy_params("TransformerPredictor", "native")
    models = {"TransformerPredictor": {**params.models["TransformerPredictor"], "dropout": 0.25}}
    dropout = DropoutScheduleConfig(enabled=True, factor=2.0, max_rate=0.4, interval=1)
    params = dataclasses.replace(params, framework="tensorflow", models=models,
                                 callbacks=dataclasses.replace(params.callbacks, dropout=dropout))
    build, built, seen, steps = tf_trainer.build_model, [], [], []
    monkeypatch.setattr(tf_trainer, "build_model", lambda *args: built.append(build(*args)) or built[0])
    make_step = tf_trainer.make_train_step
    monkeypatch.setattr(tf_trainer, "make_train_step", lambda *args: steps.append(make_step(*args)) or steps[-1])
    tf_trainer.train(params, toy_data(), tmp_path / "model.keras", tmp_path / "live", tmp_path / "tb",
                     on_epoch_end=lambda epoch, metrics: seen.append(sorted({
                         layer.rate for layer in built[0]._flatten_layers(recursive=True)
                         if isinstance(layer, ScheduledDropout)})))
    assert seen == [[0.25], [pytest.approx(0.4)]]  # the rate is a float32 variable
    # one step for both epochs, traced at its first call only (twice there: Keras makes the optimizer's variables)
    assert len(steps) == 1 and steps[0].experimental_get_tracing_count() <= 2
