"""Signs from raw Holistic landmarks (T, 543, 3): the training's input pipeline, then a trained predictor.

The store layout and input transform come from the checkpoint (`asl.data.inputs.checkpoint_pipeline`), so a video
or the camera becomes model input exactly as the model's training data did, by the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl.data.inputs import InputPipeline, checkpoint_pipeline
from asl.data.raw import COORDINATES
from asl.inference.extract import hands_seen


@dataclass(frozen=True)
class SignScore:
    sign: str
    probability: float


class SignRecognizer:
    """A predictor with the input pipeline it was trained with."""

    def __init__(self, predictor) -> None:
        self.predictor = predictor
        self.pipeline: InputPipeline = checkpoint_pipeline(predictor.extras)
        self.coordinates = self.pipeline.layout.coordinates
        self._columns = [COORDINATES.index(c) for c in self.coordinates]
        self.min_frames = training_min_frames(predictor.extras)

    def set_threads(self, threads: int) -> None:
        """CPU threads of the model. A batch of one is too small to share: on a busy 2-core machine two threads
        took 160 ms per window and one took 9 ms (the threads spin, waiting for each other)."""
        self.predictor.set_threads(threads)

    @property
    def frames(self) -> int:
        """The model's frames (fixed, or the most it reads): the live window's length."""
        return self.pipeline.frames

    def preprocess(self, raw: np.ndarray) -> np.ndarray:
        """Raw landmarks (T, 543, 3) → model input (frames, L, C), by the training's input pipeline."""
        return self.pipeline.from_raw(raw[..., self._columns], require_usable=True)

    def probabilities(self, values: np.ndarray) -> np.ndarray:
        """Class probabilities (classes,) of one model input (frames, L, C)."""
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


def training_min_frames(extras: dict) -> int | None:
    """The fewest usable frames training accepted (`clean.min_frames` of a checkpoint's params; an exported file
    records it as `min_frames`), or None when not recorded."""
    if "min_frames" in extras:
        return extras["min_frames"]
    return ((extras.get("params") or {}).get("clean") or {}).get("min_frames")


def load_recognizer(checkpoint: Path, device: str = "cpu", freeze: bool = True) -> SignRecognizer:
    """The recognizer of a checkpoint, or of an exported .onnx or .tflite file (asl.inference.exported, on the CPU);
    with `freeze`, a PyTorch model predicts through a frozen TorchScript copy where one can be made
    (`Predictor.freeze`)."""
    from asl.inference.exported import EXPORTED_RECOGNIZERS, load_exported
    from asl.inference.predictor import load_predictor

    if Path(checkpoint).suffix in EXPORTED_RECOGNIZERS:
        return load_exported(checkpoint)
    predictor = load_predictor(checkpoint, device)
    if freeze:
        predictor.freeze()
    return SignRecognizer(predictor)
