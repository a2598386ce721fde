"""A trained model restored from its checkpoint, ready to score preprocessed sequences, whatever its framework."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from asl.checkpoint import find_checkpoint
from asl.errors import AslError, warn

@dataclass
class Predictor:
    model: Any
    signs: list[str]  # sign name of each output
    extras: dict  # what the checkpoint recorded: epoch, params, validation metrics
    device: Any
    framework: str = "pytorch"
    frozen: Any = None  # a fixed inference graph answering in place of `model` (see `freeze`), or None

    def freeze(self) -> bool:
        """Predict through a fixed inference graph from now on, where one can be made: a frozen TorchScript copy of a
        PyTorch model (`freeze_for_inference`), a traced `tf.function` of a TensorFlow one (`CompiledModel`). Much
        faster for single sequences (the live loop and videos). Returns whether it could."""
        if self.frozen is None:
            if self.framework == "tensorflow":
                from asl.models.tf.base import CompiledModel

                self.frozen = CompiledModel(self.model)
            else:
                from asl.models.torch.base import freeze_for_inference

                self.frozen = freeze_for_inference(self.model)
        return self.frozen is not None

    def set_threads(self, threads: int) -> None:
        """CPU threads of a PyTorch model (TensorFlow fixes its threads when it starts)."""
        if self.framework == "pytorch":
            import torch

            torch.set_num_threads(threads)

    def predict_probabilities(self, values: np.ndarray, rows: np.ndarray | None = None,
                              batch_size: int = 256) -> np.ndarray:
        """Probabilities (len(rows), classes) for model inputs `values[rows]` (all rows by default): an array
        (N, frames, L, C) or `asl.data.inputs.StoreInputs`; a variable-length model takes up to its frames."""
        if self.framework == "tensorflow":
            from asl.models.tf.base import predict_probabilities
        else:
            from asl.models.torch.base import predict_probabilities
        shape = self.model.input_shape
        rows = np.arange(len(values)) if rows is None else rows
        expected = tuple(shape.__dict__.values())
        variable = getattr(self.model, "input_transform", "fixed_frames") == "variable_frames"
        frames_fit = values.shape[1] <= expected[0] if variable else values.shape[1] == expected[0]
        if tuple(values.shape[2:]) != expected[1:] or not frames_fit:
            raise AslError(f"the data's shape (frames, landmarks, coordinates) {tuple(values.shape[1:])} does not "
                           f"match the checkpoint's {expected}")
        return predict_probabilities(self.frozen or self.model, values, rows, batch_size, self.device)


def load_predictor(checkpoint: Path, device: str = "auto") -> Predictor:
    """Restore a predictor from a checkpoint folder or file (by its type: `.keras` is TensorFlow, else PyTorch);
    on CPU when no GPU is present. A checkpoint of a training run that did not finish is used with a warning."""
    path = find_checkpoint(checkpoint)
    if path.suffix == ".keras":
        from asl.models.tf.base import load_model_from_checkpoint as load_keras

        model, extras = load_keras(path)
        predictor = Predictor(model, extras["signs"], extras, None, "tensorflow")
    else:
        from asl.models.torch.base import load_model_from_checkpoint, resolve_device

        torch_device = resolve_device(device)
        model, extras = load_model_from_checkpoint(path, torch_device)
        predictor = Predictor(model, extras["signs"], extras, torch_device)
    if extras.get("finished") is False:  # checkpoints written before the flag existed say nothing
        warn(f"{path}: training did not finish (interrupted); this is its best epoch so far ({extras['epoch']}), "
             "not a trained model: rerun `dvc repro` (train.resume: true continues the run)")
    return predictor
