"""`train.bucket_by_length`: batches of recordings of similar length, so that a batch padded to its longest member
carries little padding (GISLR's recordings run from 1 to hundreds of frames, most of them short).

The order is one definition for both frameworks: the rows shuffled, cut into pools of `POOL_BATCHES` batches, each
pool sorted by length and cut into batches, the full batches shuffled and the one short batch (if any) last; so
consecutive `batch_size` rows of the order are the batches, as both frameworks' loaders read them.
"""

from __future__ import annotations

import numpy as np

#: Batches per pool sorted by length: larger pools pad less, smaller ones keep batches more random.
POOL_BATCHES = 64


def input_lengths(values, rows: np.ndarray) -> np.ndarray:
    """Frames of each model input `values[row]` before padding: `StoreInputs.lengths`, or an array's fixed frames."""
    if hasattr(values, "lengths"):
        return values.lengths(rows)
    return np.full(len(rows), values.shape[1], dtype=np.int64)


def bucketed_order(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """Positions 0..len(lengths)-1 ordered so that each run of `batch_size` is one batch of similar lengths."""
    shuffled = rng.permutation(len(lengths))
    pool = batch_size * POOL_BATCHES
    pools = [shuffled[start:start + pool] for start in range(0, len(shuffled), pool)]
    ordered = np.concatenate([chunk[np.argsort(lengths[chunk], kind="stable")] for chunk in pools] or
                             [np.zeros(0, np.int64)])
    full = len(ordered) // batch_size * batch_size
    batches = ordered[:full].reshape(-1, batch_size)[rng.permutation(full // batch_size)]
    return np.concatenate([batches.reshape(-1), ordered[full:]])
