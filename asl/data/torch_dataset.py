"""PyTorch dataset over model inputs of the store (asl.data.inputs.StoreInputs), fetched a whole batch at a time:
padded to the batch's longest member, with a frame mask. Training augments whole batches on its device
(asl.data.augment)."""

from __future__ import annotations

import math
import random

import numpy as np
import torch

from asl.data.buckets import bucketed_order, input_lengths
from asl.data.inputs import model_batch


class LandmarkDataset(torch.utils.data.Dataset):
    """Items are (values (T, L, C) float32 with NaN as 0, frame mask (T,) bool, label) for the given rows; a
    DataLoader fetches a batch of them at once (`__getitems__`), not item by item."""

    def __init__(self, values: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> None:
        self.values, self.labels, self.rows = values, np.asarray(labels), np.asarray(rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, item: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        values, mask, labels = self.__getitems__([item])
        return values[0], mask[0], int(labels[0])

    def __getitems__(self, items: list[int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Items `items` as one batch: (values (B, T, L, C) zero-padded, mask (B, T) False on padding, labels
        (B,)), T the longest of them (`model_batch`: one gather from the store)."""
        rows = self.rows[np.asarray(items, dtype=np.int64)]
        values, mask = model_batch(self.values, rows)
        return (torch.from_numpy(values).float(), torch.from_numpy(mask),  # (torch casts float16 faster than numpy)
                torch.from_numpy(self.labels[rows].astype(np.int64)))


def batch_loader(dataset: LandmarkDataset, batch_size: int, shuffle: bool = False,
                 generator: torch.Generator | None = None, num_workers: int = 0, pin_memory: bool = False,
                 bucket_by_length: bool = False) -> torch.utils.data.DataLoader:
    """Batches of `dataset` (`generator` orders them when shuffling; `bucket_by_length`: of similar lengths,
    asl.data.buckets), each fetched whole by `__getitems__`; with `num_workers`, worker processes fetch them (kept
    across epochs), each seeded from the loader's generator."""
    order = {"batch_size": batch_size, "shuffle": shuffle}
    if shuffle and bucket_by_length:
        order = {"batch_sampler": LengthBuckets(input_lengths(dataset.values, dataset.rows), batch_size, generator)}
    return torch.utils.data.DataLoader(
        dataset, **order, generator=generator, num_workers=num_workers, worker_init_fn=seed_worker,
        pin_memory=pin_memory, persistent_workers=num_workers > 0, collate_fn=fetched_batch)


class LengthBuckets(torch.utils.data.Sampler):
    """Each epoch's batches in `bucketed_order`, shuffled by a seed drawn from `generator`."""

    def __init__(self, lengths: np.ndarray, batch_size: int, generator: torch.Generator | None) -> None:
        self.lengths, self.batch_size, self.generator = lengths, batch_size, generator

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def __iter__(self):
        seed = int(torch.randint(2**62, (), generator=self.generator))
        order = bucketed_order(self.lengths, self.batch_size, np.random.default_rng(seed))
        for start in range(0, len(order), self.batch_size):
            yield order[start:start + self.batch_size].tolist()


def fetched_batch(batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]):
    """The loader's collate step: `__getitems__` has already assembled the batch."""
    return batch


def seed_worker(worker: int) -> None:
    """Seed a loader worker's Python and numpy from the seed torch gave it (derived from the loader's generator)."""
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
