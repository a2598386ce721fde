"""tf.data pipeline over model inputs of the store (asl.data.inputs.StoreInputs): the TensorFlow counterpart of
asl.data.dataset. Variable-length inputs are padded to each batch's longest member, with a frame mask.

Items come from the same numpy function as the PyTorch dataset (`asl.data.augment.training_item`, called through
`tf.numpy_function`), so both frameworks see the same augmentations for the same (seed, epoch, row). A fresh
pipeline is built every epoch and nothing is cached after augmenting: the seed's `.cache()` after its
augmentations froze the first epoch's draws for the whole run.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from asl.data.augment import training_item
from asl.params import AugmentConfig


class LandmarkBatches:
    """Batches ((values (B, T, L, C), mask (B, T)), labels (B,)) of the given rows, one tf.data.Dataset per epoch.

    `len()` is the number of batches per epoch (for progress bars; the seed's `DatasetWithLen`). With an augment
    config, each item is augmented with `probability` (set per epoch by the trainer's callback); `normalization` is
    the preprocessing's (preprocess.normalization), which mirroring follows.
    """

    def __init__(self, values: np.ndarray, labels: np.ndarray, rows: np.ndarray, batch_size: int,
                 augment: AugmentConfig | None = None, seed: int = 0, shuffle: bool = True,
                 normalization: str = "none") -> None:
        self.values, self.labels, self.rows = values, np.asarray(labels), np.asarray(rows)
        self.batch_size, self.augment, self.seed, self.shuffle = batch_size, augment, seed, shuffle
        self.normalization = normalization
        self.probability = augment.probability if augment else 0.0

    def __len__(self) -> int:
        return math.ceil(len(self.rows) / self.batch_size)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The rows in this epoch's order: shuffled by (seed, epoch) when shuffling."""
        if not self.shuffle:
            return self.rows
        return np.random.default_rng((self.seed, epoch)).permutation(self.rows)

    def epoch(self, epoch: int) -> tf.data.Dataset:
        """This epoch's pipeline: rows → augmented items (parallel, in order) → batches → prefetch."""
        probability = self.probability
        frames, landmarks, coordinates = self.values.shape[1:]
        frames = None if getattr(self.values, "variable_length", False) else frames

        def item(row: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            values, mask = training_item(self.values, int(row), self.augment, probability, self.seed, epoch,
                                         self.normalization)
            return values, mask, self.labels[int(row)].astype(np.int64)

        def load(row: tf.Tensor):
            values, mask, label = tf.numpy_function(item, [row], (tf.float32, tf.bool, tf.int64), stateful=False)
            values.set_shape((frames, landmarks, coordinates))
            mask.set_shape((frames,))
            label.set_shape(())
            return (values, mask), label

        rows = tf.data.Dataset.from_tensor_slices(self.epoch_order(epoch).astype(np.int64))
        return (rows.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
                .padded_batch(self.batch_size, padding_values=((0.0, False), np.int64(0)))
                .prefetch(tf.data.AUTOTUNE))
