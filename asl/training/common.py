"""What both frameworks' trainers share: the training data, the per-epoch metrics and the checkpoint's extras."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from asl.evaluation.metrics import EPOCH_METRICS, epoch_scores
from asl.params import Params


@dataclass(frozen=True)
class TrainingData:
    values: np.ndarray  # (N, T, L, C) model inputs, NaN where missing: usually StoreInputs (asl.data.inputs)
    labels: np.ndarray  # (N,)
    train_rows: np.ndarray
    valid_rows: np.ndarray
    signs: list[str]  # sign name of each label


def epoch_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float | None]:
    """The metrics logged every epoch (EPOCH_METRICS), from labels and predicted probabilities."""
    metrics = epoch_scores(labels, probabilities)
    return {name: metrics[name] for name in EPOCH_METRICS}


def checkpoint_extras(params: Params, data: TrainingData, epoch: int, metrics: dict) -> dict:
    """What inference needs besides the weights: sign names, the input pipeline (store layout and transform,
    asl.data.inputs.InputPipeline.record); and the run's params.

    `finished` stays False until the run ends (`mark_checkpoint_finished`), so a killed run's best-so-far checkpoint
    is never mistaken for a trained model."""
    pipeline = getattr(data.values, "pipeline", None)  # StoreInputs: the input transform, for inference to rebuild
    return {"signs": data.signs, "epoch": epoch, "valid_metrics": metrics, "params": dataclasses.asdict(params),
            "finished": False, **({"inputs": pipeline.record()} if pipeline is not None else {})}
