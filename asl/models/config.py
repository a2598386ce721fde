"""Configuration pieces shared by every model's params.yaml entry, in both frameworks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class OptimizerConfig:
    name: Literal["Adam", "AdamW", "SGD"]
    learning_rate: float
    weight_decay: float


@dataclass(frozen=True)
class SchedulerConfig:
    gamma: float  # ExponentialLR: the learning rate is multiplied by gamma after every epoch


@dataclass(frozen=True)
class InputShape:
    """What one model input looks like: (frames, landmarks, coordinates)."""

    frames: int
    landmarks: int
    coordinates: int

    @property
    def features(self) -> int:
        """Values per frame once landmarks and coordinates are flattened."""
        return self.landmarks * self.coordinates
