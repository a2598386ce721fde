"""Tests of asl.data.augment: every method keeps shape, dtype, input and missing points; the fixed bugs stay fixed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asl.data.augment import AUGMENTATIONS, augment_sequence, body_centre, check_methods, rotate_about
from asl.data.preprocess import normalize
from asl.errors import AslError
from asl.landmarks import N_SELECTED, selected_positions
from asl.params import (
    AugmentConfig,
    FrameDropoutConfig,
    RotationConfig,
    ScalingConfig,
    ShiftConfig,
    load_params,
)

METHODS = list(AUGMENTATIONS)
LEFT, RIGHT = selected_positions("left_hand"), selected_positions("right_hand")


def make_config(methods: list[str] | None = None, rate: float = 0.3, max_angle: float = 30.0) -> AugmentConfig:
    return AugmentConfig(
        probability=0.5,
        methods=METHODS if methods is None else methods,
        shift=ShiftConfig(max_shift=0.05),
        frame_dropout=FrameDropoutConfig(rate=rate),
        scaling=ScalingConfig(min_scale=0.5, max_scale=1.5),
        rotation=RotationConfig(max_angle=max_angle),
    )


def make_sequence(frames: int = 8, coordinates: int = 3, seed: int = 0) -> np.ndarray:
    """Random points in (0.2, 0.8); the left hand is missing in frames 0-2 and one lip point in frame 5."""
    values = np.random.default_rng(seed).uniform(0.2, 0.8, (frames, N_SELECTED, coordinates)).astype(np.float32)
    values[:3, LEFT] = np.nan
    values[5, 7] = np.nan
    return values


def apply(method: str, values: np.ndarray, config: AugmentConfig | None = None, seed: int = 1) -> np.ndarray:
    config = config or make_config()
    settings = 0.5 if method == "mirror" else getattr(config, method)  # mirror: its axis in image coordinates
    return AUGMENTATIONS[method](values, settings, np.random.default_rng(seed))


@pytest.mark.parametrize("coordinates", [2, 3])
@pytest.mark.parametrize("method", METHODS)
def test_shape_dtype_and_input_kept(method, coordinates):
    values = make_sequence(coordinates=coordinates)
    before = values.copy()
    out = apply(method, values)
    assert out.shape == values.shape
    assert out.dtype == np.float32
    np.testing.assert_array_equal(values, before)
    assert not np.shares_memory(out, values)


@pytest.mark.parametrize("method", ["shift", "scaling", "rotation"])
def test_missing_points_stay_missing(method):
    values = make_sequence()
    out = apply(method, values)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(values))
    assert not np.allclose(out, values, equal_nan=True)  # it did something


def test_shift_moves_every_point_by_one_offset_in_x_y_only():
    values = make_sequence()
    delta = apply("shift", values) - values  # (T, L, C)
    observed = ~np.isnan(delta[..., 0])
    offset = delta[observed][0]
    np.testing.assert_allclose(delta[observed][:, :2], np.broadcast_to(offset[:2], (observed.sum(), 2)), atol=1e-6)
    assert np.all(np.abs(offset[:2]) <= 0.05)
    np.testing.assert_array_equal(delta[observed][:, 2], 0)


def test_mirror_turns_a_left_hand_into_a_right_hand():
    values = np.full((4, N_SELECTED, 3), np.nan, dtype=np.float32)
    values[:, LEFT] = np.random.default_rng(0).uniform(0.1, 0.4, (4, len(LEFT), 3))
    out = apply("mirror", values)
    assert np.isnan(out[:, LEFT]).all()
    present = ~np.isnan(out).any(axis=(0, 2))
    np.testing.assert_array_equal(np.flatnonzero(present), RIGHT)
    np.testing.assert_allclose(out[:, RIGHT, 0], 1 - values[:, LEFT, 0])
    np.testing.assert_array_equal(out[:, RIGHT, 1:], values[:, LEFT, 1:])


@pytest.mark.parametrize("normalization", ["none", "minmax", "standardize"])
def test_mirroring_a_normalised_sequence_is_normalising_the_mirrored_one(normalization):
    values = make_sequence()
    mirrored = augment_sequence(normalize(values, normalization), make_config(["mirror"]), 1.0,
                                np.random.default_rng(0), normalization)
    expected = normalize(apply("mirror", values), normalization)
    np.testing.assert_allclose(mirrored, expected, atol=1e-5)


def test_mirror_twice_is_identity():
    values = make_sequence()
    np.testing.assert_allclose(apply("mirror", apply("mirror", values)), values, atol=1e-6)


def test_mirror_moves_missing_points_with_their_landmark():
    values = make_sequence()
    out = apply("mirror", values)
    assert np.isnan(out[:3, RIGHT]).all() and not np.isnan(out[:3, LEFT]).any()


@pytest.mark.parametrize("method", ["scaling", "rotation"])
def test_scaling_and_rotation_keep_the_body_centre(method):
    values = make_sequence()
    out = apply(method, values)
    np.testing.assert_allclose(body_centre(out), body_centre(values), atol=1e-5)


def test_rotation_keeps_distances_to_the_centre_and_z():
    values = make_sequence()
    out = apply("rotation", values)
    centre = body_centre(values)[:2]
    np.testing.assert_allclose(
        np.linalg.norm(out[..., :2] - centre, axis=-1), np.linalg.norm(values[..., :2] - centre, axis=-1), atol=1e-5
    )
    np.testing.assert_array_equal(out[..., 2], values[..., 2])


def test_rotate_about_a_known_angle():
    point = np.array([[[1.5, 1.0, 0.3]]], dtype=np.float32)  # (T=1, L=1, C=3), one unit right of the centre
    rotated = rotate_about(point, 90.0, np.array([0.5, 1.0, 0.0]))
    np.testing.assert_allclose(rotated[0, 0], [0.5, 2.0, 0.3], atol=1e-6)  # y is down: 90 degrees is clockwise


def test_rotation_uses_an_angle_within_max_angle():
    values = make_sequence()
    degrees = np.random.default_rng(1).uniform(-30.0, 30.0)  # the draw `rotation` makes with the same seed
    expected = rotate_about(values, degrees, body_centre(values))
    np.testing.assert_allclose(apply("rotation", values, seed=1), expected, atol=1e-6)


def test_scaling_changes_distances_by_one_factor():
    values = make_sequence()
    centre = body_centre(values)
    ratio = np.linalg.norm(apply("scaling", values) - centre, axis=-1) / np.linalg.norm(values - centre, axis=-1)
    ratio = ratio[~np.isnan(ratio)]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)
    assert 0.5 <= ratio[0] <= 1.5


def test_body_centre_is_the_mean_shoulder_midpoint_or_the_mean_of_observed_points():
    values = make_sequence()
    shoulders = selected_positions("pose")[:2]
    values[0, shoulders[0]] = np.nan  # frame 0 has one shoulder only: it does not count
    expected = values[1:, shoulders].mean(axis=1).mean(axis=0)
    np.testing.assert_allclose(body_centre(values), expected, rtol=1e-6)
    values[:, shoulders] = np.nan
    np.testing.assert_allclose(body_centre(values), np.nanmean(values.reshape(-1, 3), axis=0), rtol=1e-5)


@pytest.mark.parametrize("method", METHODS)
def test_nothing_observed_stays_nothing_observed(method):
    values = np.full((5, N_SELECTED, 2), np.nan, dtype=np.float32)
    out = apply(method, values)
    assert out.shape == values.shape and np.isnan(out).all()


def test_frame_dropout_keeps_length_and_at_least_one_frame():
    values = make_sequence(frames=12)
    assert apply("frame_dropout", values, make_config(rate=0.5)).shape == values.shape
    everything_dropped = apply("frame_dropout", values, make_config(rate=1.0))
    assert any(np.array_equal(everything_dropped[0], frame, equal_nan=True) for frame in values)
    for frame in everything_dropped:
        np.testing.assert_array_equal(frame, everything_dropped[0])


def test_frame_dropout_keeps_a_landmark_missing_everywhere_missing():
    values = make_sequence(frames=12)
    values[:, RIGHT] = np.nan
    out = apply("frame_dropout", values, make_config(rate=0.5))
    assert np.isnan(out[:, RIGHT]).all()
    assert not np.isnan(out[:, selected_positions("pose")]).any()


def test_probability_zero_returns_the_input_unchanged():
    values = make_sequence()
    out = augment_sequence(values, make_config(), 0.0, np.random.default_rng(0))
    np.testing.assert_array_equal(out, values)
    assert out is not values


def test_probability_one_applies_every_method_in_order(monkeypatch):
    calls = []
    for method in METHODS:
        def record(values, config, rng, method=method):
            calls.append((method, config))
            return values + 1
        monkeypatch.setitem(AUGMENTATIONS, method, record)
    config = make_config()
    values = make_sequence()
    out = augment_sequence(values, config, 1.0, np.random.default_rng(0))
    assert [method for method, _ in calls] == METHODS
    assert dict(calls)["shift"] is config.shift and dict(calls)["mirror"] == 0.5  # the axis of image coordinates
    np.testing.assert_allclose(out, values + len(METHODS))


def test_same_seed_same_result():
    values = make_sequence()
    first = augment_sequence(values, make_config(), 0.7, np.random.default_rng(3))
    second = augment_sequence(values, make_config(), 0.7, np.random.default_rng(3))
    np.testing.assert_array_equal(first, second)
    assert first.shape == values.shape and first.dtype == np.float32


def test_unknown_method_is_named():
    with pytest.raises(AslError, match="shfit") as error:
        check_methods(["shift", "shfit"])
    assert "frame_dropout" in str(error.value)
    with pytest.raises(AslError, match="shfit"):
        augment_sequence(make_sequence(), make_config(["shfit"]), 1.0, np.random.default_rng(0))


@pytest.mark.parametrize("method, setting", [("normalize", "minmax"), ("standardize", "standardize")])
def test_normalisation_is_no_longer_an_augmentation(method, setting):
    with pytest.raises(AslError, match=f"'{method}' is no longer an augmentation.*preprocess.normalization: {setting}"):
        check_methods(["shift", method])


def test_params_yaml_methods_are_known():
    check_methods(load_params(Path(__file__).parents[2] / "params.yaml").augment.methods)
