"""tf.data pipeline over model inputs of the store (asl.data.inputs.StoreInputs): the TensorFlow counterpart of
asl.data.torch_dataset. Variable-length inputs are padded to each batch's longest member, with a frame mask.

Training batches are augmented whole by the numpy form of the same `BatchAugmenter` the PyTorch trainers run on
their device (asl.data.augment, called through `tf.numpy_function`): the same augmentations for the same (seed,
epoch, batch index) and batch. A fresh pipeline is built every epoch and nothing is cached after augmenting: the
seed's `.cache()` after its augmentations froze the first epoch's draws for the whole run.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from asl.data.augment import BatchAugmenter
from asl.data.buckets import bucketed_order, input_lengths
from asl.data.inputs import model_batch


class LandmarkBatches:
    """Batches ((values (B, T, L, C), mask (B, T)), labels (B,)) of the given rows, one tf.data.Dataset per epoch.

    `len()` is the number of batches per epoch (for progress bars; the seed's `DatasetWithLen`).
    """

    def __init__(self, values: np.ndarray, labels: np.ndarray, rows: np.ndarray, batch_size: int, seed: int = 0,
                 shuffle: bool = True, bucket_by_length: bool = False) -> None:
        self.values, self.labels, self.rows = values, np.asarray(labels), np.asarray(rows)
        self.batch_size, self.seed, self.shuffle = batch_size, seed, shuffle
        self.lengths = input_lengths(values, self.rows) if bucket_by_length else None

    def __len__(self) -> int:
        return math.ceil(len(self.rows) / self.batch_size)

    def epoch_order(self, epoch: int) -> np.ndarray:
        """The rows in this epoch's order: shuffled by (seed, epoch) when shuffling, in batches of similar lengths
        when bucketing (`bucketed_order`)."""
        if not self.shuffle:
            return self.rows
        rng = np.random.default_rng((self.seed, epoch))
        if self.lengths is not None:
            return self.rows[bucketed_order(self.lengths, self.batch_size, rng)]
        return rng.permutation(self.rows)

    def epoch(self, epoch: int, augmenter: BatchAugmenter | None = None) -> tf.data.Dataset:
        """This epoch's pipeline: batches of rows → whole batches read at once (`model_batch`, as the PyTorch loader
        reads them; parallel, in order) → augmented batches (with an `augmenter`) → prefetch."""
        frames, landmarks, coordinates = self.values.shape[1:]
        frames = None if getattr(self.values, "variable_length", False) else frames
        order = self.epoch_order(epoch)

        def batch(start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            rows = order[int(start):int(start) + self.batch_size]
            values, mask = model_batch(self.values, rows)
            return values.astype(np.float32, copy=False), mask, self.labels[rows].astype(np.int64)

        def load(start: tf.Tensor):
            values, mask, labels = tf.numpy_function(batch, [start], (tf.float32, tf.bool, tf.int64), stateful=False)
            values.set_shape((None, frames, landmarks, coordinates))
            mask.set_shape((None, frames))
            labels.set_shape((None,))
            return (values, mask), labels

        def augment(index: tf.Tensor, batch):
            (values, mask), labels = batch
            values, mask = tf.numpy_function(lambda v, m, i: augmenter(v, m, epoch, int(i)), [values, mask, index],
                                             (tf.float32, tf.bool), stateful=False)
            values.set_shape((None, None, landmarks, coordinates))
            mask.set_shape((None, None))
            return (values, mask), labels

        starts = tf.data.Dataset.range(0, len(order), self.batch_size)
        batches = starts.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if augmenter is not None:
            batches = batches.enumerate().map(augment, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return batches.prefetch(tf.data.AUTOTUNE)
