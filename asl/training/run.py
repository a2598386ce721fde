"""Training entry point for the train stage: check the selection, take the split's rows, hand over to a framework."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from asl.check import check_params
from asl.checkpoint import CHECKPOINT_FILES
from asl.data.inputs import InputPipeline, StoreInputs
from asl.data.processed import ProcessedData
from asl.errors import AslError
from asl.models.registry import get_model_entry
from asl.params import Params


def uses_lightning(params: Params) -> bool:
    """The Lightning models, and any PyTorch model with `train.engine: lightning`, train through PyTorch Lightning."""
    model_class = get_model_entry(params.framework, params.model).model_class
    return params.train.engine == "lightning" or getattr(model_class, "engine", "native") == "lightning"


def train_model(params: Params, data: ProcessedData, checkpoint_dir: Path, live_dir: Path,
                tensorboard_dir: Path, on_epoch_end: Callable[[int, dict], None] | None = None,
                state_dir: Path | None = None) -> dict:
    """Train the selected model; its best checkpoint goes to `checkpoint_dir` (see `asl.checkpoint`).

    `on_epoch_end(epoch, valid_metrics)` is called after every epoch (the tuner reports through it); the native
    PyTorch trainer keeps its resumable state in `state_dir` (`asl.training.state`).
    """
    check_params(params)
    rows = {name: np.flatnonzero(data.split == name) for name in ("train", "valid")}
    for name, selected in rows.items():
        if len(selected) == 0:
            raise AslError(f"the {params.split.strategy} split left no {name} sequences; adjust split.* in params.yaml")
    if params.framework == "pytorch" and uses_lightning(params):
        from asl.training.lightning_trainer import TrainingData, train
    elif params.framework == "pytorch":
        from asl.training.torch_trainer import TrainingData, train
    else:
        from asl.training.tf_trainer import TrainingData, train
    inputs = StoreInputs(data.store, InputPipeline.of(params))  # the model's declared transform of the store
    training_data = TrainingData(inputs, data.labels, rows["train"], rows["valid"], data.signs)
    summary = train(params, training_data, checkpoint_dir / CHECKPOINT_FILES[params.framework], live_dir,
                    tensorboard_dir, on_epoch_end, state_dir)
    return {**summary, "split_strategy": params.split.strategy}
