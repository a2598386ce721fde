"""The TensorFlow preprocessing layers (inside the exported model) compute exactly the input pipelines (store step,
then the fixed_frames or variable_frames transform), for both store policies."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from asl.data.inputs import FixedFrames, InputPipeline, VariableFrames  # noqa: E402
from asl.data.preprocess import StoreLayout, to_model_input  # noqa: E402
from asl.data.raw import read_landmarks  # noqa: E402
from asl.data.tf_preprocess import Preprocess, preprocess_layer  # noqa: E402
from asl.landmarks import part_rows  # noqa: E402
from asl.params import PreprocessConfig  # noqa: E402

CONFIG = PreprocessConfig(frames=32, max_gap=3, chunk_size=1,
                          landmarks=["lips", "left_hand", "right_hand", "nose", "eyes", "pose"])


GROUPS = ("lips", "left_hand", "right_hand", "nose", "eyes")  # the Conv1DTransformer's


def both(raw: np.ndarray, coordinates=("x", "y"), config=CONFIG, variable=None):
    """(numpy values, numpy mask), (tf values, tf mask) of one raw sequence (T, 543, 3); `variable`: the
    variable_frames transform of (max_frames, groups) instead of fixed_frames."""
    channels = [("x", "y", "z").index(name) for name in coordinates]
    transform = (VariableFrames(variable[0], config.normalization, variable[1]) if variable
                 else FixedFrames(config.frames, config.normalization))
    pipeline = InputPipeline(StoreLayout.of(config, coordinates), transform)
    expected = to_model_input(pipeline.from_raw(raw[..., channels]))
    layer = preprocess_layer(pipeline)
    return expected, [array.numpy() for array in layer(tf.constant(raw, dtype=tf.float32))]


def assert_same(raw, atol=2e-6, **options):
    (values, mask), (tf_values, tf_mask) = both(raw, **options)
    assert tf_values.shape == values.shape
    np.testing.assert_array_equal(tf_mask, mask)
    np.testing.assert_allclose(tf_values, values, rtol=0, atol=atol)


@pytest.mark.parametrize("normalization", ["none", "minmax", "standardize"])
def test_matches_numpy_on_real_competition_files(gislr_sample, normalization):
    files = sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[::6]
    assert len(files) > 40
    config = PreprocessConfig(frames=32, max_gap=3, chunk_size=1, normalization=normalization,
                              landmarks=CONFIG.landmarks)
    for path in files:
        # the layer's statistics are float32 sums (numpy's are float64): standardised values agree to 1e-5
        assert_same(read_landmarks(path, ("x", "y", "z")).values.astype(np.float32), config=config,
                    coordinates=("x", "y", "z"), atol=2e-6 if normalization == "none" else 1e-5)


@pytest.mark.parametrize("normalization", ["none", "standardize"])
def test_variable_frames_match_numpy_on_real_competition_files(gislr_sample, normalization):
    files = sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[::6]
    config = PreprocessConfig(frames=32, max_gap=3, chunk_size=1, normalization=normalization,
                              landmarks=CONFIG.landmarks)
    for path in files:
        assert_same(read_landmarks(path, ("x", "y", "z")).values.astype(np.float32), config=config,
                    coordinates=("x", "y", "z"), atol=2e-6 if normalization == "none" else 1e-5,
                    variable=(384, GROUPS))


def raw_sequence(frames: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.1, 0.9, size=(frames, 543, 3)).astype(np.float32)


LEFT, RIGHT = part_rows("left_hand"), part_rows("right_hand")


@pytest.mark.parametrize("frames", [1, 5, 31, 32, 33, 64, 100, 131])
def test_matches_numpy_for_every_length(frames):
    raw = raw_sequence(frames, seed=frames)
    raw[:, part_rows("face")[:200]] = np.nan  # part of the face is never seen
    assert_same(raw)


def test_matches_numpy_on_gaps_edges_and_dropped_frames():
    raw = raw_sequence(60)
    raw[:2, LEFT] = np.nan  # edge gap at the start (≤ max_gap): filled from the nearest frame
    raw[10:13, LEFT] = np.nan  # interior gap of 3: interpolated
    raw[20:26, LEFT] = np.nan  # interior gap of 6: stays missing
    raw[55:, LEFT] = np.nan  # edge gap of 5 at the end: stays missing
    raw[:, RIGHT] = np.nan  # right hand never seen
    raw[30:35, RIGHT[0]] = 0.5  # ... except a few frames
    raw[40:45, :] = np.nan  # nothing at all: frames without a hand are dropped
    raw[:8, part_rows("pose")] = np.nan
    assert_same(raw)
    assert_same(raw, coordinates=("x", "y", "z"))
    assert_same(raw, config=PreprocessConfig(frames=16, max_gap=0, chunk_size=1))
    assert_same(raw, config=PreprocessConfig(frames=16, max_gap=3, chunk_size=1, drop_frames="empty"))


def test_variable_frames_match_numpy_on_gaps_dropped_frames_truncation_and_both_store_policies():
    raw = raw_sequence(60)
    raw[10:13, LEFT] = np.nan  # interior gap of 3: filled by a without_hands store
    raw[:, RIGHT] = np.nan
    raw[20:26, :] = np.nan  # nothing at all: dropped by either policy
    raw[40:45, np.concatenate([LEFT, part_rows("pose")])] = np.nan  # no hand: dropped by without_hands only
    raw[50:53, np.concatenate([LEFT, part_rows("face")])] = np.nan  # only pose: kept by the store, not the model
    for drop_frames in ("without_hands", "empty"):
        config = PreprocessConfig(frames=32, max_gap=3, chunk_size=1, drop_frames=drop_frames,
                                  landmarks=CONFIG.landmarks)
        for variable in ((384, GROUPS), (20, GROUPS), (384, ())):
            assert_same(raw, config=config, variable=variable)
        assert_same(raw, config=config, variable=(384, GROUPS), coordinates=("x", "y", "z"))


def test_a_sequence_the_variable_transform_keeps_nothing_of_becomes_one_padded_frame():
    raw = raw_sequence(12)
    raw[:, np.concatenate([LEFT, RIGHT])] = np.nan
    config = PreprocessConfig(frames=32, max_gap=3, chunk_size=1, landmarks=CONFIG.landmarks)
    assert_same(raw, config=config, variable=(384, GROUPS))
    (_, mask), (values, _) = both(raw, config=config, variable=(384, GROUPS))
    assert values.shape == (1, 118, 2) and not mask.any() and not values.any()


@pytest.mark.parametrize("normalization", ["none", "minmax", "standardize"])
def test_a_sequence_without_hands_becomes_all_padding(normalization):
    raw = raw_sequence(12)
    raw[:, np.concatenate([LEFT, RIGHT])] = np.nan
    values, mask = [array.numpy() for array in Preprocess(32, 3, normalization=normalization)(tf.constant(raw))]
    assert values.shape == (32, 96, 2) and not mask.any() and not values.any()


def test_the_normalisation_survives_saving_the_layer():
    assert Preprocess.from_config(Preprocess(16, 2, normalization="minmax").get_config()).normalization == "minmax"
