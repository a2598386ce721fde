"""PyTorch dataset over the memory-mapped preprocessed array, with augmentation for training."""

from __future__ import annotations

import numpy as np
import torch

from asl.data.augment import training_item
from asl.params import AugmentConfig


class LandmarkDataset(torch.utils.data.Dataset):
    """Items are (values (T, L, C) float32 with NaN as 0, frame mask (T,) bool, label) for the given rows.

    With an augment config, each item is augmented with `probability` (set per epoch by the trainer). The random
    stream of an item depends only on (seed, epoch, row), so results do not depend on loader workers.
    `normalization` is the preprocessing's (preprocess.normalization), which mirroring follows.
    """

    def __init__(self, values: np.ndarray, labels: np.ndarray, rows: np.ndarray,
                 augment: AugmentConfig | None = None, seed: int = 0, normalization: str = "none") -> None:
        self.values, self.labels, self.rows = values, np.asarray(labels), np.asarray(rows)
        self.augment, self.seed, self.normalization = augment, seed, normalization
        self.probability = augment.probability if augment else 0.0
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        row = self.rows[item]
        sequence, mask = training_item(self.values, row, self.augment, self.probability, self.seed, self.epoch,
                                       self.normalization)
        return torch.from_numpy(sequence), torch.from_numpy(mask), int(self.labels[row])
