"""The tf.data pipeline serves exactly the PyTorch dataset's items: one set of augmentation semantics."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

from asl.data.dataset import LandmarkDataset  # noqa: E402
from asl.data.tf_data import LandmarkBatches  # noqa: E402
from asl.params import (AugmentConfig, FrameDropoutConfig, RotationConfig, ScalingConfig,  # noqa: E402
                        ShiftConfig)

AUGMENT = AugmentConfig(probability=0.7, methods=["shift", "mirror", "frame_dropout", "scaling", "rotation"],
                        shift=ShiftConfig(0.05), frame_dropout=FrameDropoutConfig(0.3),
                        scaling=ScalingConfig(0.8, 1.2), rotation=RotationConfig(15.0))


def data(count: int = 11):
    rng = np.random.default_rng(0)
    values = rng.uniform(0.2, 0.8, size=(count, 8, 96, 2)).astype(np.float32)
    values[:, :, 40:61] = np.nan  # the left hand is missing
    values[2, 6:] = np.nan  # a sequence ending in empty frames
    return values, rng.integers(0, 5, size=count)


def test_tf_batches_equal_the_torch_items_for_the_same_seed_epoch_and_rows():
    values, labels = data()
    rows = np.array([9, 2, 4, 7, 0, 5, 1])
    batches = LandmarkBatches(values, labels, rows, batch_size=3, augment=AUGMENT, seed=5, shuffle=False)
    dataset = LandmarkDataset(values, labels, rows, AUGMENT, seed=5)
    for epoch in (0, 3):
        dataset.epoch = epoch
        served = list(batches.epoch(epoch))
        assert len(served) == len(batches) == 3
        x = np.concatenate([v.numpy() for (v, _), _ in served])
        mask = np.concatenate([m.numpy() for (_, m), _ in served])
        y = np.concatenate([label.numpy() for _, label in served])
        for item in range(len(rows)):
            x_torch, mask_torch, y_torch = dataset[item]
            np.testing.assert_array_equal(x[item], x_torch.numpy())
            np.testing.assert_array_equal(mask[item], mask_torch.numpy())
            assert y[item] == y_torch == labels[rows[item]]


def test_augmentations_change_every_epoch_and_shuffling_follows_the_seed():
    values, labels = data()
    rows = np.arange(len(values))
    batches = LandmarkBatches(values, labels, rows, batch_size=4, augment=AUGMENT, seed=1)
    first = [(v.numpy(), y.numpy()) for (v, _), y in batches.epoch(0)]
    second = [(v.numpy(), y.numpy()) for (v, _), y in batches.epoch(1)]
    again = [(v.numpy(), y.numpy()) for (v, _), y in batches.epoch(0)]
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
    np.testing.assert_array_equal(x.numpy(), np.nan_to_num(values[:4]))  # no augment config: the data as is
