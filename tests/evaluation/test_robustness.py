"""Each perturbation of the robustness evaluation, on raw Holistic frames (T, 543, C)."""

from __future__ import annotations

import numpy as np
import pytest

from asl.evaluation import robustness
from asl.evaluation.robustness import (PERTURBATIONS, add_noise, body_scale, change_speed, drop_frames, mirror,
                                       perturbed_inputs, without_face)
from asl.landmarks import part_rows
from asl.data.inputs import FixedFrames, InputPipeline
from asl.data.preprocess import StoreLayout
from asl.params import PreprocessConfig


def seed_pipeline(frames: int) -> InputPipeline:
    """The seed models' input over a store of the default landmark groups."""
    config = PreprocessConfig(frames=frames, max_gap=3, chunk_size=4,
                              landmarks=["lips", "left_hand", "right_hand", "nose", "eyes", "pose"])
    return InputPipeline(StoreLayout.of(config, ("x", "y")), FixedFrames(frames))

SHOULDERS = part_rows("pose")[[11, 12]]


def frames(count: int = 20, coordinates: int = 2) -> np.ndarray:
    """Frame t holds the value t everywhere (so resampling is visible), shoulders 0.2 apart in x."""
    values = np.repeat(np.arange(count, dtype=np.float32), 543 * coordinates).reshape(count, 543, coordinates)
    values[:, SHOULDERS[0], 0], values[:, SHOULDERS[1], 0] = 0.4, 0.6
    values[:, SHOULDERS, 1] = 0.5
    return values


def test_the_eight_perturbations_in_order():
    assert list(PERTURBATIONS) == ["clean", "frame_drop_25", "frame_drop_50", "speed_0.5x", "speed_2x",
                                   "noise_1pct", "mirrored", "lips_missing"]


@pytest.mark.parametrize("share, kept", [(0.25, 15), (0.5, 10)])
def test_frame_drop_removes_that_share_in_order(share, kept):
    dropped = drop_frames(frames(), np.random.default_rng(0), share)
    order = dropped[:, 0, 0]
    assert len(dropped) == kept and (np.diff(order) > 0).all() and set(order) <= set(range(20))
    assert not np.array_equal(order, drop_frames(frames(), np.random.default_rng(1), share)[:, 0, 0])
    assert len(drop_frames(frames(1), np.random.default_rng(0), 0.5)) == 1  # one frame always stays


def test_speed_resamples_in_time():
    slow = change_speed(frames(), 0.5)
    assert len(slow) == 40 and slow[0, 0, 0] == 0 and slow[-1, 0, 0] == 19
    np.testing.assert_allclose(slow[:3, 0, 0], [0, 19 / 39, 38 / 39], rtol=1e-6)
    fast = change_speed(frames(), 2.0)
    assert len(fast) == 10 and fast[0, 0, 0] == 0 and fast[-1, 0, 0] == 19
    gappy = frames(4)
    gappy[1] = np.nan
    assert change_speed(gappy, 0.5)[1, 0, 0] == 0  # next to a missing frame: the nearest observed value


def test_noise_is_one_percent_of_the_shoulder_width():
    values = frames(200)
    assert body_scale(values) == pytest.approx(0.2)
    noisy = add_noise(values, np.random.default_rng(0))
    assert np.std(noisy - values) == pytest.approx(0.002, rel=0.02)
    values[:, 0] = np.nan
    assert np.isnan(add_noise(values, np.random.default_rng(0))[:, 0]).all()  # missing stays missing
    no_shoulders = frames(3)
    no_shoulders[:, SHOULDERS] = np.nan
    assert body_scale(no_shoulders) == pytest.approx(2.0)  # the extent of everything observed instead


def test_mirror_flips_x_and_swaps_hands_pose_and_lips():
    rng = np.random.default_rng(0)
    values = rng.random((3, 543, 3)).astype(np.float32)
    mirrored = mirror(values, ("x", "y", "z"))
    left, right = part_rows("left_hand"), part_rows("right_hand")
    np.testing.assert_allclose(mirrored[:, right, 0], 1 - values[:, left, 0], rtol=1e-6)
    np.testing.assert_array_equal(mirrored[:, right, 1:], values[:, left, 1:])
    np.testing.assert_array_equal(mirrored[:, SHOULDERS[0], 1], values[:, SHOULDERS[1], 1])
    face = part_rows("face")
    np.testing.assert_array_equal(mirrored[:, face[61], 1], values[:, face[291], 1])  # mouth corners
    np.testing.assert_array_equal(mirrored[:, face[0], 1], values[:, face[0], 1])  # the middle stays
    np.testing.assert_allclose(mirror(mirrored, ("x", "y", "z")), values, atol=1e-6)  # an involution
    swapped = mirror(values[..., [1, 0, 2]], ("y", "x", "z"))  # x is found by its name
    np.testing.assert_allclose(swapped[..., 1], mirrored[..., 0], rtol=1e-6)


def test_lips_missing_removes_the_face_only():
    values = frames()
    missing = without_face(values)
    assert np.isnan(missing[:, part_rows("face")]).all()
    np.testing.assert_array_equal(missing[:, 468:], values[:, 468:])


def test_perturbed_inputs_are_seeded_and_preprocessed(write_landmarks, random_landmarks, tmp_path):
    path = write_landmarks(tmp_path / "a.parquet", random_landmarks(16))
    inputs = np.stack(perturbed_inputs((3, path), seed_pipeline(8), seed=0))
    assert inputs.shape == (len(PERTURBATIONS), 8, 96, 2)
    np.testing.assert_array_equal(inputs, perturbed_inputs((3, path), seed_pipeline(8), seed=0))
    other = perturbed_inputs((4, path), seed_pipeline(8), seed=0)  # another recording: another random stream
    noise = list(PERTURBATIONS).index("noise_1pct")
    assert not np.array_equal(inputs[noise], other[noise])
    assert np.isnan(inputs[list(PERTURBATIONS).index("lips_missing")][:, :40]).all()  # lips lead the selection


def test_robustness_accuracy_scores_each_perturbation(monkeypatch, write_landmarks, random_landmarks, tmp_path):
    paths = []
    for i in range(3):
        values = random_landmarks(10, seed=i)
        values[:, part_rows("left_hand")] = np.nan  # a right-handed signer
        paths.append(write_landmarks(tmp_path / f"{i}.parquet", values))

    class RightHandedOnly:
        """Predicts class 1 when the right hand is seen in the first frame, else class 0."""

        def predict_probabilities(self, values, rows, batch_size):
            seen = ~np.isnan(values[:, 0, 61]).all(axis=-1)
            return np.stack([~seen, seen], axis=1).astype(float)

    monkeypatch.setattr(robustness, "CHUNK", 2)  # two chunks: scores add up across them
    scores = robustness.robustness_accuracy(RightHandedOnly(), paths, np.array([1, 1, 1]),
                                            seed_pipeline(4), 0, 2)
    assert list(scores) == list(PERTURBATIONS)
    assert scores["mirrored"] == 0.0  # the mirrored signer is left-handed
    assert {name: score for name, score in scores.items() if name != "mirrored"} == dict.fromkeys(
        set(PERTURBATIONS) - {"mirrored"}, 1.0)
