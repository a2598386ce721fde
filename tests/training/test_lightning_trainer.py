"""`train.engine: lightning` trains the same way as the native loop: same metrics, same learning rates, same
checkpoint format."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from asl.data.preprocess import Store
from asl.data.processed import ProcessedData
from asl.models.torch.base import load_model_from_checkpoint
from asl.params import load_params
from asl.training import lightning_trainer, torch_trainer
from asl.training.common import TrainingData
from asl.training.lightning_trainer import accelerator
from asl.training.run import train_model
from tests.models.test_torch_models import shrink

REPO = Path(__file__).resolve().parents[2]


def toy_data() -> TrainingData:
    """Three classes told apart by where the right hand is; 8 frames, the last two of some sequences missing."""
    rng = np.random.default_rng(0)
    labels = np.arange(36) % 3
    values = rng.normal(0.5, 0.05, size=(36, 8, 96, 2)).astype(np.float32)
    values[:, :, 75:, 0] += labels[:, None, None] * 0.2
    values[::4, 6:] = np.nan
    return TrainingData(values, labels, np.arange(24), np.arange(24, 36), ["a", "b", "c"])


def toy_params(model: str, engine: str):
    params = load_params(REPO / "params.yaml")
    train = dataclasses.replace(params.train, epochs=2, batch_size=8, device="cpu", engine=engine)
    models = {model: shrink(params.models[model])}
    return dataclasses.replace(params, model=model, train=train, models=models)


def run(tmp_path: Path, engine: str, model: str = "TransformerPredictor"):
    trainer = lightning_trainer if engine == "lightning" else torch_trainer
    out = tmp_path / engine
    summary = trainer.train(toy_params(model, engine), toy_data(), out / "model.pt", out / "live", out / "tb")
    return summary, json.loads((out / "live" / "metrics.json").read_text()), out / "model.pt"


def test_lightning_engine_matches_the_native_loop(tmp_path):
    native_summary, native_log, _ = run(tmp_path, "native")
    summary, log, checkpoint = run(tmp_path, "lightning")
    assert summary.keys() == native_summary.keys() and summary["epochs_run"] == 2
    assert log.keys() == native_log.keys() and log["valid"].keys() == native_log["valid"].keys()
    assert log["learning_rate"] == pytest.approx(native_log["learning_rate"])  # the last epoch's, before stepping
    assert log["valid"]["accuracy"] == pytest.approx(native_log["valid"]["accuracy"], abs=0.25)
    model, extras = load_model_from_checkpoint(checkpoint)
    assert type(model).__name__ == "TransformerPredictor" and extras["signs"] == ["a", "b", "c"]


def test_a_lightning_model_trains_through_lightning_with_the_native_engine_set(tmp_path, monkeypatch):
    data = toy_data()
    meta = pd.DataFrame({"sequence_id": [str(i) for i in range(36)],
                         "participant_id": [str(i % 6) for i in range(36)], "sign": np.array(data.signs)[data.labels],
                         "label": data.labels})
    engines = []
    monkeypatch.setattr(lightning_trainer.LightningTask, "on_fit_start", lambda task: engines.append("lightning"))
    split = meta["participant_id"].map({"4": "valid", "5": "test"}).fillna("train").to_numpy()
    store = Store(data.values.reshape(-1, 96, 2), np.arange(36) * 8, np.full(36, 8))  # 8 frames of each recording
    data = ProcessedData(store, meta, data.signs, split)
    params = toy_params("LightningBaseModel", "native")
    seed_store = dataclasses.replace(params.preprocess, landmarks=["lips", "left_hand", "right_hand", "pose"])
    summary = train_model(dataclasses.replace(params, preprocess=seed_store), data, tmp_path / "best", tmp_path / "live",
                          tmp_path / "tb")
    assert engines == ["lightning"] and summary["epochs_run"] == 2
    log = json.loads((tmp_path / "live" / "metrics.json").read_text())
    assert set(log["train"]) == {"loss", "accuracy", "f1_macro", "precision_macro", "recall_macro"}
    model, _ = load_model_from_checkpoint(tmp_path / "best" / "model.pt")
    assert type(model).__name__ == "LightningBaseModel"


def test_accelerator_follows_the_device():
    assert accelerator(torch.device("cpu")) == ("cpu", 1)
    assert accelerator(torch.device("cuda:1")) == ("gpu", [1])
    assert accelerator(torch.device("cuda")) == ("gpu", [0])
