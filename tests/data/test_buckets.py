"""`train.bucket_by_length`: batches of similar lengths, every row once an epoch, the same for the same seed."""

import numpy as np
import torch

from asl.data.buckets import POOL_BATCHES, bucketed_order, input_lengths
from asl.data.torch_dataset import LandmarkDataset, batch_loader


def test_the_order_holds_every_position_once_in_batches_of_similar_length():
    rng = np.random.default_rng(0)
    lengths = rng.geometric(1 / 40, size=1000)  # skewed like GISLR's: most short, a few long
    order = bucketed_order(lengths, 8, np.random.default_rng(1))
    assert sorted(order.tolist()) == list(range(1000))
    padded = sum(lengths[order[start:start + 8]].max() * len(order[start:start + 8]) for start in range(0, 1000, 8))
    unsorted = sum(lengths[start:start + 8].max() * 8 for start in range(0, 1000, 8))
    assert padded < 0.5 * unsorted  # padding to each batch's longest costs far less
    longest = [lengths[order[start:start + 8]].max() for start in range(0, 1000, 8)]
    assert longest[:POOL_BATCHES] != sorted(longest[:POOL_BATCHES])  # the batches are shuffled, not short to long


def test_the_short_batch_comes_last_so_tf_padded_batch_reads_the_same_batches():
    lengths = np.arange(21)
    order = bucketed_order(lengths, 4, np.random.default_rng(3))
    assert len(order) == 21 and len(set(order[20:])) == 1
    assert np.array_equal(bucketed_order(lengths, 4, np.random.default_rng(3)), order)


def test_a_torch_loader_buckets_store_inputs_and_repeats_for_the_same_seed(tmp_path, write_landmarks,
                                                                          random_landmarks):
    from tests.data.test_store import config, write_store
    from asl.data.inputs import InputPipeline, StoreInputs, VariableFrames
    from asl.data.preprocess import StoreLayout

    sizes = [2, 30, 3, 28, 4, 26, 5, 24]
    meta, store = write_store(tmp_path, write_landmarks, [random_landmarks(n, seed=n) for n in sizes], config())
    inputs = StoreInputs(store, InputPipeline(StoreLayout.of(config(), ("x", "y")), VariableFrames(25)))
    assert input_lengths(inputs, np.arange(8)).tolist() == [min(size, 25) for size in sizes]
    dataset = LandmarkDataset(inputs, meta["label"].to_numpy(), np.arange(8))

    def epoch(seed):
        loader = batch_loader(dataset, 4, shuffle=True, generator=torch.Generator().manual_seed(seed),
                              bucket_by_length=True)
        return [mask.sum(axis=1).tolist() for _, mask, _ in loader]

    batches = epoch(0)
    assert sorted(map(sorted, batches)) == [[2, 3, 4, 5], [24, 25, 25, 25]]  # short ones together
    assert epoch(0) == batches
