"""Signs from raw Holistic landmarks (T, 543, 3): the training preprocessing, then a trained predictor.

The preprocessing configuration and coordinates come from the checkpoint's own params, so a video or the camera
is preprocessed exactly as the model's training data was, by the same function (`preprocess_sequence`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl.data.preprocess import preprocess_sequence
from asl.data.raw import COORDINATES
from asl.errors import AslError
from asl.inference.extract import hands_seen
from asl.params import PreprocessConfig, from_mapping


@dataclass(frozen=True)
class SignScore:
    sign: str
    probability: float


class SignRecognizer:
    """A predictor with the preprocessing it was trained with."""

    def __init__(self, predictor) -> None:
        self.predictor = predictor
        params = predictor.extras.get("params") or {}
        if "preprocess" not in params or "data" not in params:
            raise AslError("the checkpoint does not record the params it was trained with (preprocess, data)")
        self.config: PreprocessConfig = from_mapping(PreprocessConfig, params["preprocess"], "preprocess")
        self.coordinates = tuple(params["data"]["coordinates"])
        self._columns = [COORDINATES.index(c) for c in self.coordinates]
        self.min_frames: int | None = params.get("clean", {}).get("min_frames")  # training dropped fewer usable

    @staticmethod
    def set_threads(threads: int) -> None:
        """CPU threads of the model. A batch of one is too small to share: on a busy 2-core machine two threads
        took 160 ms per window and one took 9 ms (the threads spin, waiting for each other)."""
        import torch

        torch.set_num_threads(threads)

    @property
    def frames(self) -> int:
        return self.config.frames

    def preprocess(self, raw: np.ndarray) -> np.ndarray:
        """Raw landmarks (T, 543, 3) → model input (frames, 96, C), by the training preprocessing."""
        return preprocess_sequence(raw[..., self._columns], self.config).values

    def probabilities(self, values: np.ndarray) -> np.ndarray:
        """Class probabilities (classes,) of one preprocessed sequence (frames, 96, C)."""
        return self.predictor.predict_probabilities(values[None])[0]

    def top(self, probabilities: np.ndarray, n: int = 5) -> list[SignScore]:
        order = np.argsort(probabilities)[::-1][:n]
        return [SignScore(self.predictor.signs[i], float(probabilities[i])) for i in order]

    def input_warnings(self, raw: np.ndarray) -> list[str]:
        """Why a prediction from raw landmarks (T, 543, 3) is unsure: fewer usable frames (a hand in view) than
        training accepted (`clean.min_frames` of the checkpoint's params)."""
        usable = int(hands_seen(raw).sum())
        if self.min_frames is not None and usable < self.min_frames:
            return [f"only {usable} of {len(raw)} frames show a hand, fewer than the clean.min_frames="
                    f"{self.min_frames} that training required: the prediction is unsure"]
        return []

    def predict(self, raw: np.ndarray, n: int = 5) -> list[SignScore]:
        """The `n` most likely signs for raw landmarks (T, 543, 3)."""
        return self.top(self.probabilities(self.preprocess(raw)), n)


def load_recognizer(checkpoint: Path, device: str = "cpu", freeze: bool = True) -> SignRecognizer:
    """The recognizer of a checkpoint; with `freeze`, a PyTorch model predicts through a frozen TorchScript copy
    where one can be made (`Predictor.freeze`)."""
    from asl.inference.predictor import load_predictor

    predictor = load_predictor(checkpoint, device)
    if freeze:
        predictor.freeze()
    return SignRecognizer(predictor)
