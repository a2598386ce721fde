"""PyTorch dataset over model inputs of the store (asl.data.inputs.StoreInputs); `pad_collate` pads variable-length
items to the batch's longest with a frame mask. Training augments whole batches on its device (asl.data.augment)."""

from __future__ import annotations

import numpy as np
import torch

from asl.data.preprocess import to_model_input


class LandmarkDataset(torch.utils.data.Dataset):
    """Items are (values (T, L, C) float32 with NaN as 0, frame mask (T,) bool, label) for the given rows."""

    def __init__(self, values: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> None:
        self.values, self.labels, self.rows = values, np.asarray(labels), np.asarray(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        row = self.rows[item]
        sequence, mask = to_model_input(np.asarray(self.values[row], dtype=np.float32))
        return torch.from_numpy(sequence), torch.from_numpy(mask), int(self.labels[row])


def pad_collate(items: list[tuple[torch.Tensor, torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Items (values (T_i, L, C), mask (T_i,), label) → (values (B, T, L, C) zero-padded, mask (B, T) False on
    padding, labels (B,)), T the longest T_i: fixed-length items batch exactly as the default collate does."""
    longest = max(len(values) for values, _, _ in items)
    values = torch.zeros(len(items), longest, *items[0][0].shape[1:], dtype=items[0][0].dtype)
    mask = torch.zeros(len(items), longest, dtype=torch.bool)
    for i, (sequence, frames, _) in enumerate(items):
        values[i, :len(sequence)], mask[i, :len(frames)] = sequence, frames
    return values, mask, torch.tensor([label for _, _, label in items])
