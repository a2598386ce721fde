"""The tf.data pipeline serves the PyTorch dataset's items, and augments its batches with the same augmenter:
one set of augmentation semantics for both frameworks."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from asl.data.augment import training_augmenter  # noqa: E402
from asl.data.torch_dataset import LandmarkDataset, batch_loader  # noqa: E402
from asl.data.tf_data import LandmarkBatches  # noqa: E402
from asl.landmarks import SEED_GROUPS  # noqa: E402
from asl.params import load_params  # noqa: E402

CONFIG = load_params(Path(__file__).parents[2] / "params.yaml").augment
AUGMENTER = training_augmenter(dataclasses.replace(CONFIG, methods=["shift", "mirror", "frame_dropout", "scaling",
                                                                    "rotation", "resample", "affine", "cutout"]),
                               0.7, SEED_GROUPS, "none", seed=5, max_frames=8)


def data(count: int = 11):
    rng = np.random.default_rng(0)
    values = rng.uniform(0.2, 0.8, size=(count, 8, 96, 2)).astype(np.float32)
    values[:, :, 40:61] = np.nan  # the left hand is missing
    values[2, 6:] = np.nan  # a sequence ending in empty frames
    return values, rng.integers(0, 5, size=count)


def test_tf_batches_equal_the_torch_batches_augmented_on_the_device_for_the_same_seed_epoch_and_rows():
    values, labels = data()
    rows = np.array([9, 2, 4, 7, 0, 5, 1])
    batches = LandmarkBatches(values, labels, rows, batch_size=3, seed=5, shuffle=False)
    loader = batch_loader(LandmarkDataset(values, labels, rows), batch_size=3)
    for epoch in (0, 3):
        served = list(batches.epoch(epoch, AUGMENTER))
        assert len(served) == len(batches) == len(loader) == 3
        for index, (((x, mask), y), (x_torch, mask_torch, y_torch)) in enumerate(zip(served, loader)):
            x_torch, mask_torch = AUGMENTER(x_torch, mask_torch, epoch, index)
            np.testing.assert_allclose(x.numpy(), x_torch.numpy(), atol=1e-6)
            np.testing.assert_array_equal(mask.numpy(), mask_torch.numpy())
            np.testing.assert_array_equal(y.numpy(), y_torch.numpy())


def test_augmentations_change_every_epoch_and_shuffling_follows_the_seed():
    values, labels = data()
    rows = np.arange(len(values))
    batches = LandmarkBatches(values, labels, rows, batch_size=4, seed=1)
    first = [(v.numpy(), y.numpy()) for (v, _), y in batches.epoch(0, AUGMENTER)]
    second = [(v.numpy(), y.numpy()) for (v, _), y in batches.epoch(1, AUGMENTER)]
    again = [(v.numpy(), y.numpy()) for (v, _), y in batches.epoch(0, AUGMENTER)]
    assert len(batches) == 3 and len(first) == 3
    assert not np.array_equal(batches.epoch_order(0), batches.epoch_order(1))  # reshuffled per epoch
    assert sorted(batches.epoch_order(1)) == list(rows)
    order0, order1 = batches.epoch_order(0), batches.epoch_order(1)
    x0 = np.concatenate([v for v, _ in first])[np.argsort(order0)]
    x1 = np.concatenate([v for v, _ in second])[np.argsort(order1)]
    assert not np.allclose(x0, x1)  # not cached: epoch 1 draws new augmentations
    for (a, la), (b, lb) in zip(first, again):  # same (seed, epoch): same batches
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(la, lb)
    without = LandmarkBatches(values, labels, rows, batch_size=4, shuffle=False)
    (x, mask), _ = next(iter(without.epoch(0)))
    np.testing.assert_array_equal(x.numpy(), np.nan_to_num(values[:4]))  # no augmenter: the data as is
