"""Gap filling, resizing, normalisation, the seed models' input of raw frames and the model-input mask (the store
itself: tests/data/test_store.py)."""

import numpy as np
import pytest

from asl.data.inputs import FixedFrames, InputPipeline
from asl.data.preprocess import StoreLayout, fill_short_gaps, normalize, resize_frames, to_model_input
from asl.errors import AslError
from asl.landmarks import HAND_POSITIONS, part_rows, selected_positions
from asl.params import PreprocessConfig

CONFIG = PreprocessConfig(frames=8, max_gap=2, chunk_size=4,
                          landmarks=["lips", "left_hand", "right_hand", "nose", "eyes", "pose"])


def seed_input(raw: np.ndarray, config: PreprocessConfig = CONFIG, require_usable: bool = False) -> np.ndarray:
    """The seed models' input (fixed_frames) of raw frames (T, 543, 2), through a store of `config`."""
    pipeline = InputPipeline(StoreLayout.of(config, ("x", "y")), FixedFrames(config.frames, config.normalization))
    return pipeline.from_raw(raw, require_usable)


def ramp(frames: int) -> np.ndarray:
    return np.arange(frames, dtype=np.float32).reshape(frames, 1, 1).repeat(2, axis=2)


def test_interior_gaps_interpolate_and_long_gaps_stay_missing():
    part = ramp(10)
    part[[3, 4]] = np.nan  # gap of 2: filled
    part[[6, 7, 8]] = np.nan  # gap of 3: too long
    filled = fill_short_gaps(part, max_gap=2)[:, 0, 0]
    np.testing.assert_allclose(filled[:6], [0, 1, 2, 3, 4, 5])
    assert np.isnan(filled[6:9]).all() and filled[9] == 9


def test_edge_gaps_take_the_nearest_observed_frame():
    part = ramp(6)
    part[[0, 1]] = np.nan
    part[5] = np.nan
    filled = fill_short_gaps(part, max_gap=2)[:, 0, 0]
    np.testing.assert_allclose(filled, [2, 2, 2, 3, 4, 4])


def test_resize_pools_long_sequences_evenly_and_resamples_short_ones():
    pooled = resize_frames(ramp(8), 4)[:, 0, 0]
    np.testing.assert_allclose(pooled, [0.5, 2.5, 4.5, 6.5])  # no extra weight on the ends
    stretched = resize_frames(ramp(3), 5)[:, 0, 0]
    np.testing.assert_allclose(stretched, [0, 0.5, 1, 1.5, 2])
    with_missing = ramp(4)
    with_missing[:2] = np.nan
    assert np.isnan(resize_frames(with_missing, 2)[0]).all()  # nothing observed in that window stays missing


def test_seed_input_selects_fills_drops_and_resizes(random_landmarks):
    raw = random_landmarks(12)[..., :2].astype(np.float32)
    raw[:, part_rows("left_hand")] = np.nan  # one-handed signer
    raw[5, part_rows("right_hand")] = np.nan  # a one-frame gap: interpolated
    raw[8:12, part_rows("right_hand")] = np.nan  # a 4-frame gap at the end: too long, dropped
    values = seed_input(raw)
    assert values.shape == (8, 96, 2)
    right = raw[:8, part_rows("right_hand")]  # 8 kept frames: resizing to 8 keeps them; frame 5 interpolated
    np.testing.assert_allclose(values[:, selected_positions("right_hand")][[4, 5, 6]],
                               [right[4], (right[4] + right[6]) / 2, right[6]], rtol=1e-6)
    assert np.isnan(values[:, selected_positions("left_hand")]).all()
    assert not np.isnan(values[:, selected_positions("right_hand")]).any()


def observed_sequence() -> np.ndarray:
    """Values (8, 96, 3) far from [0, 1]; the left hand missing in three frames, one lip point in one."""
    values = np.random.default_rng(0).uniform(-1, 2, (8, 96, 3)).astype(np.float32)
    values[:3, selected_positions("left_hand")] = np.nan
    values[5, 7] = np.nan
    return values


def test_minmax_spans_zero_to_one_ignoring_missing_points():
    values = observed_sequence()
    out = normalize(values, "minmax")
    np.testing.assert_array_equal(np.isnan(out), np.isnan(values))
    np.testing.assert_allclose(np.nanmin(out, axis=(0, 1)), 0, atol=1e-6)
    np.testing.assert_allclose(np.nanmax(out, axis=(0, 1)), 1, atol=1e-6)


def test_standardize_gives_zero_mean_unit_std_ignoring_missing_points():
    values = observed_sequence()
    values[..., 2] = 0.25  # a constant coordinate must not become NaN or inf
    values[5, 7] = np.nan
    out = normalize(values, "standardize")
    np.testing.assert_allclose(np.nanmean(out[..., :2], axis=(0, 1)), 0, atol=1e-5)
    np.testing.assert_allclose(np.nanstd(out[..., :2], axis=(0, 1)), 1, atol=1e-4)
    np.testing.assert_array_equal(out[..., 2][~np.isnan(values[..., 2])], 0)


@pytest.mark.parametrize("normalization", ["minmax", "standardize"])
def test_normalisation_keeps_a_sequence_with_nothing_observed_missing(normalization):
    out = normalize(np.full((4, 96, 2), np.nan, dtype=np.float32), normalization)
    assert out.dtype == np.float32 and np.isnan(out).all()


@pytest.mark.parametrize("normalization", ["none", "minmax", "standardize"])
def test_seed_input_normalises_after_resizing(random_landmarks, normalization):
    raw = random_landmarks(12)[..., :2].astype(np.float32)
    config = PreprocessConfig(frames=8, max_gap=2, chunk_size=4, normalization=normalization)
    plain = seed_input(raw)
    np.testing.assert_array_equal(seed_input(raw, config), normalize(plain, normalization))
    assert CONFIG.normalization == "none"  # the default: checkpoints from before the setting kept raw coordinates


def test_sequence_without_hands_is_an_error_or_all_padding(random_landmarks):
    raw = random_landmarks(4)[..., :2]
    raw[:, np.concatenate([part_rows("left_hand"), part_rows("right_hand")])] = np.nan
    with pytest.raises(AslError, match="no frame has a hand"):
        seed_input(raw, require_usable=True)  # video and camera: nothing to recognise
    kept = seed_input(raw)  # the store keeps length 0: the recording still gets a prediction
    assert kept.shape == (CONFIG.frames, 96, 2) and np.isnan(kept).all()


def test_model_input_zeroes_missing_and_masks_empty_frames():
    values = np.ones((3, 96, 2), dtype=np.float32)
    values[0, HAND_POSITIONS] = np.nan
    values[2] = np.nan
    x, mask = to_model_input(values)
    assert not np.isnan(x).any() and x[0, HAND_POSITIONS].sum() == 0
    assert mask.tolist() == [True, True, False]
