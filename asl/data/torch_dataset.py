"""PyTorch dataset over model inputs of the store (asl.data.inputs.StoreInputs), fetched a whole batch at a time:
padded to the batch's longest member, with a frame mask. Training augments whole batches on its device
(asl.data.augment).

With `train.store_on_device`, the frames a variable-length model reads are copied to the training device once
(`DeviceStore`) and each batch is gathered there (`device_batches`): the loader hands over only indices
(`PlannedBatches`), in the same order as `batch_loader`'s, so the batches are the same."""

from __future__ import annotations

import math
import random

import numpy as np
import torch

from asl.data.buckets import bucketed_order, input_lengths
from asl.data.inputs import StoreInputs, model_batch
from asl.errors import AslError


class LandmarkDataset(torch.utils.data.Dataset):
    """Items are (values (T, L, C) float32 with NaN as 0, frame mask (T,) bool, label) for the given rows; a
    DataLoader fetches a batch of them at once (`__getitems__`), not item by item."""

    def __init__(self, values: np.ndarray, labels: np.ndarray, rows: np.ndarray) -> None:
        self.values, self.labels, self.rows = values, np.asarray(labels), np.asarray(rows)
        self.lengths = input_lengths(values, self.rows)  # (for a store: its kept frames, found before workers fork)

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
        order = {"batch_sampler": LengthBuckets(dataset.lengths, batch_size, generator)}
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


class PlannedBatches(LandmarkDataset):
    """A batch as indices, for `DeviceStore` to gather: (entries of the store's kept frames, their flat places in
    the padded batch, rows, longest, labels)."""

    def __getitems__(self, items: list[int]) -> tuple:
        rows = self.rows[np.asarray(items, dtype=np.int64)]
        plan = self.values.kept.plan(rows)
        return (torch.from_numpy(plan.kept), torch.from_numpy(plan.flat), plan.rows, plan.longest,
                torch.from_numpy(self.labels[rows].astype(np.int64)))


class DeviceStore:
    """The kept frames of every recording's input of a variable-length model (its landmarks only), copied to
    `device` once."""

    def __init__(self, inputs: StoreInputs, device: torch.device) -> None:
        kept = len(inputs.kept.index)
        self.device = device
        self.frames = torch.empty((kept, *inputs.shape[2:]), device=device,
                                  dtype=getattr(torch, inputs.store.values.dtype.name))
        for start in range(0, kept, COPY_CHUNK):
            part = inputs.kept_values(slice(start, start + COPY_CHUNK))
            self.frames[start:start + len(part)] = torch.from_numpy(part).to(device)

    def model_input(self, kept: torch.Tensor, flat: torch.Tensor, rows: int, longest: int):
        """`BatchPlan.model_input` on the device, as float32: (values (rows, longest, L, C), frame mask)."""
        frames = self.frames[kept].float().nan_to_num(0.0)
        values = torch.zeros((rows * longest, *frames.shape[1:]), device=self.device)
        mask = torch.zeros(rows * longest, dtype=torch.bool, device=self.device)
        values[flat] = frames
        mask.index_fill_(0, flat, True)  # (`mask[flat] = True` would copy True from the host and wait for it)
        return values.view(rows, longest, *frames.shape[1:]), mask.view(rows, longest)


#: Kept frames copied to the device at once (bounds the host memory the copy takes).
COPY_CHUNK = 2**18


class DeviceBatches:
    """Batches (values, mask, labels) on the device: each of `loader`'s plans gathered from `store`."""

    def __init__(self, loader: torch.utils.data.DataLoader, store: DeviceStore) -> None:
        self.loader, self.store = loader, store

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        device = self.store.device
        for kept, flat, rows, longest, labels in self.loader:
            values, mask = self.store.model_input(kept.to(device, non_blocking=True),
                                                  flat.to(device, non_blocking=True), rows, longest)
            yield values, mask, labels.to(device, non_blocking=True)


def device_batches(dataset: LandmarkDataset, batch_size: int, device: torch.device, shuffle: bool = False,
                   generator: torch.Generator | None = None, num_workers: int = 0,
                   bucket_by_length: bool = False) -> DeviceBatches:
    """`batch_loader`'s batches of `dataset`, in its order, gathered on `device` from a copy of the store there."""
    inputs = dataset.values
    if not isinstance(inputs, StoreInputs) or not inputs.planned:
        raise AslError("train.store_on_device: true needs a model of variable-length input (input_transform "
                       "variable_frames) and preprocess.normalization: none; set train.store_on_device: false")
    planned = PlannedBatches(inputs, dataset.labels, dataset.rows)
    loader = batch_loader(planned, batch_size, shuffle=shuffle, generator=generator, num_workers=num_workers,
                          pin_memory=device.type == "cuda", bucket_by_length=bucket_by_length)
    return DeviceBatches(loader, DeviceStore(inputs, device))


def fetched_batch(batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]):
    """The loader's collate step: `__getitems__` has already assembled the batch."""
    return batch


def seed_worker(worker: int) -> None:
    """Seed a loader worker's Python and numpy from the seed torch gave it (derived from the loader's generator)."""
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)
