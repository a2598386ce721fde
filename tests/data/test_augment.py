"""Tests of asl.data.augment: each augmentation's effect on padded batches, probabilities, determinism, torch ==
numpy, the params glue (`training_augmenter`, `check_methods`) and the layouts of landmark selections."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from pathlib import Path

from asl.data.augment import (
    AUGMENTATIONS,
    Affine,
    BatchAugmenter,
    Cutout,
    FrameDropout,
    FrameMask,
    Layout,
    Mirror,
    Resample,
    Rotation,
    Scaling,
    Shift,
    _Batch,
    _Ops,
    _frame_uniforms,
    check_methods,
    layout_of,
    training_augmenter,
)
from asl.data.preprocess import normalize
from asl.errors import AslError
from asl.landmarks import N_SELECTED, POSE_POINTS, SEED_GROUPS, mirror_permutation, selected_positions
from asl.params import AffineConfig, load_params

PARAMS_YAML = Path(__file__).parents[2] / "params.yaml"
LAYOUT = layout_of(SEED_GROUPS)
SHOULDERS = LAYOUT.centre_points
LEFT = selected_positions("left_hand")
LENGTHS = (12, 7, 0, 12)  # sequence 2 is all padding


def make_batch(coordinates: int = 3, fill: float = np.nan, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A padded batch (4, 12, 96, C) of points in (0.2, 0.8): lengths LENGTHS, the left hand missing in frames 0-2
    of sequence 0 and one lip point missing in frame 5 of sequence 3; `fill` where missing or padded."""
    values = np.random.default_rng(seed).uniform(0.2, 0.8, (4, 12, N_SELECTED, coordinates)).astype(np.float32)
    mask = np.arange(12)[None] < np.array(LENGTHS)[:, None]
    values[~mask] = fill
    values[0, :3, LEFT] = fill
    values[3, 5, 7] = fill
    return values, mask


def missing(values: np.ndarray) -> np.ndarray:
    return np.isnan(values).any(-1) | (values == 0).all(-1)


def run(augmentation, values, mask, seed: int = 3, max_frames: int | None = None, layout: Layout = LAYOUT):
    return BatchAugmenter([augmentation], layout, seed, max_frames)(values, mask, epoch=1, batch_index=2)


def apply_drawn(augmentation, values, mask, params):
    """One augmentation with given parameters on a NaN-marked batch (B, T, L, C), as BatchAugmenter applies it (on
    coordinate planes)."""
    out, out_mask = augmentation.apply(_Batch(values.transpose(0, 3, 1, 2), mask, values.shape[1]), params, LAYOUT)
    return out.transpose(0, 2, 3, 1), out_mask


ALL_ON = [Shift(1.0, 0.05), Mirror(1.0), FrameDropout(1.0, 0.3), Scaling(1.0, 0.5, 1.5), Rotation(1.0, 30.0),
          Resample(1.0), Affine(1.0, max_aspect=1.2), FrameMask(1.0), Cutout(1.0)]


def test_selection_layout_is_the_mirror_permutation_and_the_shoulders():
    np.testing.assert_array_equal(LAYOUT.mirror_permutation, mirror_permutation())
    assert list(POSE_POINTS[SHOULDERS - selected_positions("pose")[0]]) == [11, 12]


def test_every_named_augmentation_is_tested():
    assert {augmentation.name for augmentation in ALL_ON} == set(AUGMENTATIONS)


@pytest.mark.parametrize("fill", [np.nan, 0.0])
@pytest.mark.parametrize("augmentation", ALL_ON, ids=lambda a: a.name)
def test_shapes_inputs_kept_missing_stay_missing_padding_stays_padding(augmentation, fill):
    values, mask = make_batch(fill=fill)
    before, mask_before = values.copy(), mask.copy()
    out, out_mask = run(augmentation, values, mask)
    frames = 18 if augmentation.name == "resample" else 12  # resample may lengthen to ceil(12 × max_rate 1.5)
    assert out.shape == (4, frames, *values.shape[2:]) and out.dtype == values.dtype
    assert out_mask.shape == (4, frames) and out_mask.dtype == bool
    np.testing.assert_array_equal(values, before)
    np.testing.assert_array_equal(mask, mask_before)
    assert not np.allclose(out[:, :12], values, equal_nan=True)  # it did something
    padded = ~out_mask
    assert np.isnan(out[padded]).all() if np.isnan(fill) else (out[padded] == 0).all()
    assert not out_mask[2].any()  # the empty sequence stays empty
    if augmentation.name not in ("resample", "frame_dropout", "frame_mask", "cutout"):
        np.testing.assert_array_equal(out_mask, mask)
        np.testing.assert_array_equal(missing(out), missing(values)[:, :, LAYOUT.mirror_permutation]
                                      if augmentation.name == "mirror" else missing(values))
    if augmentation.name in ("frame_mask", "cutout"):
        np.testing.assert_array_equal(out_mask, mask)
        assert (missing(out) >= missing(values)).all()  # only removes points


@pytest.mark.parametrize("augmentation", ALL_ON, ids=lambda a: a.name)
def test_torch_equals_numpy(augmentation):
    values, mask = make_batch()
    out, out_mask = run(augmentation, values, mask, max_frames=16)
    tensor, tensor_mask = run(augmentation, torch.from_numpy(values), torch.from_numpy(mask), max_frames=16)
    np.testing.assert_array_equal(tensor_mask.numpy(), out_mask)
    np.testing.assert_allclose(tensor.numpy(), out, atol=1e-5, equal_nan=True)


def test_whole_recipe_torch_equals_numpy_and_is_deterministic():
    values, mask = make_batch()
    augmenter = BatchAugmenter([Resample(0.8), Mirror(0.5), Affine(0.75), FrameMask(0.5), Cutout(0.5)], LAYOUT,
                               seed=7, max_frames=10)
    first, first_mask = augmenter(values, mask, 0, 0)
    again, again_mask = augmenter(values, mask, 0, 0)
    tensor, tensor_mask = augmenter(torch.from_numpy(values), torch.from_numpy(mask), 0, 0)
    other, _ = augmenter(values, mask, 1, 0)  # another epoch: other draws
    np.testing.assert_array_equal(again, first)
    np.testing.assert_array_equal(again_mask, first_mask)
    np.testing.assert_array_equal(tensor_mask.numpy(), first_mask)
    np.testing.assert_allclose(tensor.numpy(), first, atol=1e-5, equal_nan=True)
    assert not np.allclose(other[:, :5], first[:, :5], equal_nan=True)
    assert first.shape[1] == 10


@pytest.mark.parametrize("framework", ["numpy", "torch"])
def test_float16_in_float16_out_computed_in_float32(framework):
    values, mask = make_batch()
    recipe = [Resample(1.0), Mirror(0.5), Affine(1.0), FrameMask(0.5), Cutout(0.5), FrameDropout(1.0, 0.2)]
    augmenter = BatchAugmenter(recipe, LAYOUT, seed=2, max_frames=14)
    half = values.astype(np.float16)
    reference, reference_mask = augmenter(half.astype(np.float32), mask, 0, 0)
    if framework == "torch":
        out, out_mask = augmenter(torch.from_numpy(half), torch.from_numpy(mask), 0, 0)
        assert out.dtype == torch.float16
        out, out_mask = out.numpy(), out_mask.numpy()
    else:
        out, out_mask = augmenter(half, mask, 0, 0)
    assert out.dtype == np.float16
    np.testing.assert_array_equal(out_mask, reference_mask)
    np.testing.assert_allclose(out.astype(np.float32), reference, rtol=1e-3, atol=1e-3, equal_nan=True)


def test_host_arrays_reach_torch_exactly_from_one_buffer():
    rng = np.random.default_rng(0)
    host = [rng.random((5, 3)) < 0.5, rng.uniform(-1, 1, (4, 2, 2)), rng.uniform(size=7).astype(np.float32),
            np.arange(6, dtype=np.int32).reshape(2, 3), np.array(7), np.zeros(0, np.int64),
            np.arange(9, dtype=np.uint8), rng.uniform(size=(3, 4))[:, ::2], np.full(3, 1.5, np.float16),
            rng.random(3) < 0.5]
    expected = _Ops(np.zeros(1, np.float32)).asarrays(host)  # numpy: floats in float32, the rest as they are
    moved = _Ops(torch.zeros(1)).asarrays(host)
    for array, want, got in zip(host, expected, moved):
        np.testing.assert_array_equal(want, array.astype(np.float32) if array.dtype.kind == "f" else array)
        assert want.dtype == (np.float32 if array.dtype.kind == "f" else array.dtype)
        assert got.numpy().dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.numpy(), want)
    assert len({tensor.untyped_storage().data_ptr() for tensor in moved}) == 1


def test_a_batch_reaches_the_device_in_one_copy():
    """On the meta device (every op runs, no data): the draws of every step and the layout's indices are one copy
    from the host; every constant is made on the device."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Copies(TorchDispatchMode):
        count = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            from_host = any(isinstance(arg, torch.Tensor) and arg.device.type == "cpu" for arg in args)
            self.count += from_host and isinstance(result, torch.Tensor) and result.device.type == "meta"
            return result

    values, mask = make_batch(coordinates=3)
    augmenter = BatchAugmenter(ALL_ON, LAYOUT, seed=0, max_frames=16)
    values, mask = torch.from_numpy(values).to("meta"), torch.from_numpy(mask).to("meta")
    with Copies() as copies:
        out, out_mask = augmenter(values, mask, 0, 0)
    assert copies.count == 1
    assert out.shape == (4, 16, N_SELECTED, 3) and out_mask.shape == (4, 16) and out.device.type == "meta"


@pytest.mark.parametrize("chunk", [1, 3, None])
def test_chunks_on_the_cpu_do_not_change_the_result(chunk):
    values, mask = make_batch()
    recipe = [Resample(0.8), Mirror(0.5), Affine(0.75), FrameMask(0.5), Cutout(0.5), FrameDropout(0.5, 0.2)]
    whole = BatchAugmenter(recipe, LAYOUT, seed=5, max_frames=14, chunk=None)(values, mask, 0, 0)
    chunked = BatchAugmenter(recipe, LAYOUT, seed=5, max_frames=14, chunk=chunk)(values, mask, 0, 0)
    np.testing.assert_array_equal(chunked[0], whole[0])
    np.testing.assert_array_equal(chunked[1], whole[1])


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_compiled_augmentation_equals_eager_in_one_graph_for_batches_of_any_size(device):
    """`compiled`: one torch.compile graph (sizes symbolic, the configuration guarded by value) serves batches of
    other sizes and the next epoch's augmenter; its results are the eager ones up to float32 rounding (on CUDA:
    `pytest -m gpu` on a GPU)."""
    from torch._dynamo.utils import counters

    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device here")
    graphs = counters["stats"]["unique_graphs"]
    other_values, other_mask = make_batch(seed=1)
    batches = [make_batch(), (other_values[:3, :9].copy(), other_mask[:3, :9].copy())]
    next_epoch = [dataclasses.replace(augmentation, probability=0.5) for augmentation in ALL_ON]
    for augmentations, epoch in [(ALL_ON, 0), (next_epoch, 1)]:
        for batch_index, (values, mask) in enumerate(batches):
            values, mask = torch.from_numpy(values).to(device), torch.from_numpy(mask).to(device)
            eager = BatchAugmenter(augmentations, LAYOUT, seed=2, max_frames=16, chunk=None)
            compiled = BatchAugmenter(augmentations, LAYOUT, seed=2, max_frames=16, chunk=None, compiled=True)
            expected, expected_mask = eager(values, mask, epoch, batch_index)
            out, out_mask = compiled(values, mask, epoch, batch_index)
            torch.testing.assert_close(out_mask, expected_mask, rtol=0, atol=0)
            torch.testing.assert_close(out, expected, rtol=0, atol=1e-5, equal_nan=True)
    assert counters["stats"]["unique_graphs"] == graphs + 1


@pytest.mark.parametrize("augmentation", ALL_ON, ids=lambda a: a.name)
def test_probability_zero_is_identity(augmentation):
    values, mask = make_batch()
    off = type(augmentation)(**{**augmentation.__dict__, "probability": 0.0})
    out, out_mask = run(off, values, mask)
    np.testing.assert_array_equal(out, values)
    np.testing.assert_array_equal(out_mask, mask)


@pytest.mark.parametrize("augmentation", [Shift(0.5, 0.05), Affine(0.5), Mirror(0.5), Cutout(0.5, low=0.2, high=0.4)],
                         ids=lambda a: a.name)
def test_probability_applies_per_sequence_and_the_others_stay_exactly(augmentation):
    values, mask = make_batch()
    real = mask.any(1)  # sequences with frames
    values, mask = np.repeat(values[real], 25, axis=0), np.repeat(mask[real], 25, axis=0)
    out, _ = run(augmentation, values, mask)
    same = np.array([np.array_equal(out[row], values[row], equal_nan=True) for row in range(len(values))])
    assert 0.3 < 1 - same.mean() < 0.7


def test_shift_scaling_and_mirror_move_points_as_defined():
    values, mask = make_batch()
    one, one_mask = values[:1], mask[:1]
    centre = one[0][:, SHOULDERS].mean(axis=1).mean(axis=0)  # sequence 0: shoulders observed everywhere
    shifted = np.concatenate([one[..., :2] + [0.03, -0.02], one[..., 2:]], -1)
    mirrored = one[:, :, mirror_permutation()].copy()
    mirrored[..., 0] = 1.0 - mirrored[..., 0]
    cases = [(Shift(1.0), {"offset": np.array([[0.03, -0.02]])}, shifted),
             (Scaling(1.0), {"factor": np.array([1.25])}, centre + 1.25 * (one - centre)),
             (Mirror(1.0, 0.5), {}, mirrored)]
    for augmentation, drawn, expected in cases:
        out, out_mask = apply_drawn(augmentation, one, one_mask, {"applied": np.ones(1, bool), **drawn})
        np.testing.assert_allclose(out, expected, atol=1e-6, equal_nan=True, err_msg=augmentation.name)
        np.testing.assert_array_equal(out_mask, one_mask)


@pytest.mark.parametrize("normalization", ["none", "minmax", "standardize"])
def test_mirroring_a_normalised_batch_is_normalising_the_mirrored_one(normalization):
    values, mask = make_batch(fill=np.nan)
    config = load_params(PARAMS_YAML).augment
    mirror = training_augmenter(dataclasses.replace(config, methods=["mirror"]), 1.0, SEED_GROUPS, normalization, 0)
    normalised = np.stack([normalize(sequence, normalization) for sequence in values])
    mirrored, _ = mirror(normalised, mask, 0, 0)
    flipped = values[:, :, mirror_permutation()].copy()
    flipped[..., 0] = 1.0 - flipped[..., 0]
    expected = np.stack([normalize(sequence, normalization) for sequence in flipped])
    np.testing.assert_allclose(mirrored, expected, atol=1e-5, equal_nan=True)


def test_rotation_by_a_known_angle_moves_a_point_where_expected():
    values, mask = make_batch()
    centre = values[0][:, SHOULDERS].mean(axis=1).mean(axis=0)  # sequence 0: shoulders observed everywhere
    rotated, _ = run(Affine(1.0, min_scale=1, max_scale=1, max_shear=0, max_angle=0, max_shift=0), values, mask)
    np.testing.assert_allclose(rotated[0], values[0], atol=1e-6, equal_nan=True)  # identity affine
    params = {"applied": np.ones(4, bool), "matrix": Rotation(1.0, 90.0).draw(FixedAngle(90.0), 4)["matrix"]}
    out, _ = apply_drawn(Rotation(1.0, 90.0), values, mask, params)
    point, moved = values[0, 4, 30], out[0, 4, 30]
    # 90 degrees: (dx, dy) -> (-dy, dx) about the centre; z untouched
    np.testing.assert_allclose(moved[:2] - centre[:2], [-(point[1] - centre[1]), point[0] - centre[0]], atol=1e-5)
    assert moved[2] == point[2]


class FixedAngle:
    """A stand-in Generator whose uniform draws are all `value`."""

    def __init__(self, value: float):
        self.value = value

    def uniform(self, low, high, size):
        return np.full(size, self.value)


def test_mirror_twice_is_identity_and_swaps_hands():
    values, mask = make_batch()
    once, _ = run(Mirror(1.0, 0.5), values, mask)
    twice, twice_mask = run(Mirror(1.0, 0.5), once, mask)
    np.testing.assert_allclose(twice, values, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(twice_mask, mask)
    right = selected_positions("right_hand")
    np.testing.assert_allclose(once[0, 5, right, 0], 1 - values[0, 5, LEFT, 0], atol=1e-6)
    assert np.isnan(once[0, :3, right]).all()  # the missing left hand is now the missing right hand


def test_affine_about_the_centre_keeps_the_centre():
    values, mask = make_batch(coordinates=2)
    out, _ = run(Affine(1.0, max_aspect=1.5, max_shift=0.0), values, mask)
    for row in (0, 1, 3):
        frames = mask[row] & ~np.isnan(values[row][:, SHOULDERS]).any(axis=(1, 2))
        before = values[row][frames][:, SHOULDERS].mean(axis=(0, 1))
        after = out[row][frames][:, SHOULDERS].mean(axis=(0, 1))
        np.testing.assert_allclose(after, before, atol=1e-5)


def test_frame_mask_hides_a_run_of_real_frames_and_keeps_at_least_one():
    values, mask = make_batch()
    out, out_mask = run(FrameMask(1.0, min_fraction=0.2, max_fraction=0.4), values, mask)
    np.testing.assert_array_equal(out_mask, mask)
    for row, length in enumerate(LENGTHS):
        hidden = np.isnan(out[row]).all(axis=(1, 2)) & ~np.isnan(values[row]).all(axis=(1, 2))
        count = hidden.sum()
        assert not hidden[length:].any()  # only real frames
        if length:
            assert 0.2 * length - 1 < count <= 0.4 * length and count < length
            frames = np.flatnonzero(hidden)
            assert len(frames) == 0 or (np.diff(frames) == 1).all()  # one run
            kept = ~hidden[:length]
            np.testing.assert_array_equal(out[row, :length][kept], values[row, :length][kept])
    edge, _ = run(FrameMask(1.0, min_fraction=0.99, max_fraction=0.99), values, mask)
    assert (~np.isnan(edge[1, :7]).all(axis=(1, 2))).sum() >= 1


def test_cutout_only_removes_points_inside_the_box():
    values, mask = make_batch(coordinates=2)
    cutout = Cutout(1.0, min_size=0.3, max_size=0.3, low=0.3, high=0.3)  # the box (0.3, 0.6)²
    out, _ = run(cutout, values, mask)
    inside = ((values[..., 0] > 0.3) & (values[..., 0] < 0.6) & (values[..., 1] > 0.3)
              & (values[..., 1] < 0.6))
    removed = np.isnan(out).any(-1) & ~np.isnan(values).any(-1)
    assert removed.any()
    np.testing.assert_array_equal(removed, inside & mask[:, :, None])
    np.testing.assert_array_equal(out[~removed], values[~removed])


def test_resample_keeps_first_and_last_real_frame_and_updates_the_mask():
    values, mask = make_batch()
    for rate in (0.5, 0.8, 1.3):
        out, out_mask = run(Resample(1.0, min_rate=rate, max_rate=rate), values, mask, max_frames=20)
        frames = max(12, int(np.ceil(12 * rate)))
        assert out.shape == (4, frames) + values.shape[2:]
        for row, length in enumerate(LENGTHS):
            new_length = max(int(np.floor(np.float32(rate) * length)), 1) if length else 0
            np.testing.assert_array_equal(out_mask[row], np.arange(frames) < new_length)
            if length:
                np.testing.assert_array_equal(out[row, 0], values[row, 0])
                np.testing.assert_array_equal(out[row, new_length - 1], values[row, length - 1])
            assert np.isnan(out[row, new_length:]).all()


def test_resample_crops_to_max_frames_at_a_random_offset():
    values, mask = make_batch()
    out, out_mask = run(Resample(1.0, min_rate=1.5, max_rate=1.5), values, mask, max_frames=10)
    assert out.shape[1] == 10 and out_mask[0].all()  # 18 frames cropped to 10
    # a crop of the resampled sequence (18 frames over 12): some frame of the crop is an original frame
    resampled, _ = run(Resample(1.0, min_rate=1.5, max_rate=1.5), values, mask, max_frames=18)
    starts = [start for start in range(9) if np.allclose(resampled[0, start:start + 10], out[0], equal_nan=True)]
    assert starts


def test_resample_rate_one_is_identity():
    values, mask = make_batch()
    out, out_mask = run(Resample(1.0, min_rate=1.0, max_rate=1.0), values, mask)
    np.testing.assert_array_equal(out, values)
    np.testing.assert_array_equal(out_mask, mask)


def test_frame_dropout_resamples_kept_frames_back_to_the_length():
    values, mask = make_batch()
    out, out_mask = run(FrameDropout(1.0, rate=0.5), values, mask)
    np.testing.assert_array_equal(out_mask, mask)  # real frames packed at the start: lengths unchanged
    for row, length in enumerate(LENGTHS[:2]):
        np.testing.assert_array_equal(np.isnan(out[row, length:]).all(axis=(1, 2)), True)
    everything, every_mask = run(FrameDropout(1.0, rate=1.0), values, mask)  # at least one frame is kept
    np.testing.assert_array_equal(every_mask, mask)
    for row, length in enumerate(LENGTHS):
        if length:  # one frame kept, repeated over the length
            np.testing.assert_array_equal(everything[row, :length], np.broadcast_to(everything[row, :1],
                                                                                    everything[row, :length].shape))


def lowbias32(x: int) -> int:
    """Wellons' lowbias32 hash in Python's exact integers: the reference for `_frame_uniforms`."""
    x ^= x >> 16
    x = x * 0x7FEB352D % 2**32
    x ^= x >> 15
    x = x * 0x846CA68B % 2**32
    return x ^ (x >> 16)


def test_frame_uniforms_are_the_lowbias32_hash_of_key_and_frame_alike_in_numpy_and_torch():
    keys = np.array([0, 1, 2**31, 2**32 - 1, 0x9E3779B9], dtype=np.int64)  # the extremes of a 32-bit key
    expected = np.array([[lowbias32(key ^ frame * 0x9E3779B9 % 2**32) >> 8 for frame in range(600)]
                         for key in keys.tolist()], dtype=np.float64) / 2**24
    in_numpy = _frame_uniforms(_Ops(np.zeros(1, np.float32)), keys, 600)
    in_torch = _frame_uniforms(_Ops(torch.zeros(1)), torch.from_numpy(keys), 600)
    assert in_numpy.dtype == np.float32 and in_torch.dtype == torch.float32
    np.testing.assert_array_equal(in_numpy, expected)  # 24 bits: exact in float32
    np.testing.assert_array_equal(in_torch.numpy(), expected)


def test_frame_uniforms_are_uniform_and_independent_across_frames_and_keys():
    keys = np.random.default_rng(0).integers(0, 2**32, 2000, dtype=np.int64)
    uniforms = _frame_uniforms(_Ops(np.zeros(1, np.float32)), keys, 384).astype(np.float64)  # 768,000 draws
    assert 0 <= uniforms.min() and uniforms.max() < 1
    counts = np.histogram(uniforms, bins=10, range=(0, 1))[0]
    assert np.abs(counts / uniforms.size - 0.1).max() < 0.002  # 5 standard errors: 0.00034 each
    assert abs(np.corrcoef(uniforms[:, :-1].ravel(), uniforms[:, 1:].ravel())[0, 1]) < 0.006  # next frame
    assert abs(np.corrcoef(uniforms[:-1].ravel(), uniforms[1:].ravel())[0, 1]) < 0.006  # next sequence
    assert abs((uniforms < 0.05).mean() - 0.05) < 0.0013  # a frame dropout rate


def test_output_frames_reach_what_resample_can_up_to_max_frames():
    values, mask = make_batch()
    kept, kept_mask = BatchAugmenter([Shift(0.0)], LAYOUT, 0, max_frames=15)(values, mask, 0, 0)
    np.testing.assert_array_equal(kept, values)  # no resample: the input's frames
    np.testing.assert_array_equal(kept_mask, mask)
    assert BatchAugmenter([Resample(0.5, max_rate=1.5)], LAYOUT, 0).output_frames(12) == 18
    assert BatchAugmenter([Resample(0.5, max_rate=1.5)], LAYOUT, 0, max_frames=15).output_frames(12) == 15
    assert BatchAugmenter([Resample(0.0, max_rate=1.5)], LAYOUT, 0, max_frames=15).output_frames(12) == 12
    cropped, cropped_mask = BatchAugmenter([Shift(0.0)], LAYOUT, 0, max_frames=5)(values, mask, 0, 0)
    np.testing.assert_array_equal(cropped, values[:, :5])
    np.testing.assert_array_equal(cropped_mask, mask[:, :5])


def test_training_augmenter_follows_params_each_section_with_its_own_probability_or_the_default():
    config = load_params(PARAMS_YAML).augment
    config = dataclasses.replace(config, methods=["resample", "mirror", "affine"],
                                 affine=AffineConfig(max_angle=20.0, probability=None))
    augmenter = training_augmenter(config, 0.25, SEED_GROUPS, "standardize", seed=0, max_frames=32)
    assert [a.name for a in augmenter.augmentations] == ["resample", "mirror", "affine"]
    assert [a.probability for a in augmenter.augmentations] == [config.resample.probability, 0.25, 0.25]
    assert augmenter.augmentations[2].max_angle == 20.0
    assert augmenter.augmentations[1].axis == 0.0  # standardised inputs are mirrored about 0
    with pytest.raises(AslError, match="mirror permutation"):
        values, mask = make_batch()
        run(Mirror(1.0), values, mask, layout=Layout())


def test_unknown_method_is_named_with_the_valid_ones():
    with pytest.raises(AslError, match="shfit") as error:
        check_methods(["shift", "shfit"])
    assert "frame_dropout" in str(error.value) and "cutout" in str(error.value)


@pytest.mark.parametrize("method, setting", [("normalize", "minmax"), ("standardize", "standardize")])
def test_normalisation_is_no_longer_an_augmentation(method, setting):
    with pytest.raises(AslError, match=f"'{method}' is no longer an augmentation.*preprocess.normalization: {setting}"):
        check_methods(["shift", method])


def test_params_yaml_methods_are_known():
    check_methods(load_params(PARAMS_YAML).augment.methods)


def test_layout_of_the_first_place_groups_mirrors_eyes_nose_and_hands_and_centres_on_the_points():
    groups = ("lips", "left_hand", "right_hand", "nose", "eyes")
    layout = layout_of(groups)
    permutation = layout.mirror_permutation
    np.testing.assert_array_equal(permutation[permutation], np.arange(118))
    assert len(layout.centre_points) == 0  # no pose: the centre is the mean of the observed points
    values = np.random.default_rng(0).uniform(0.2, 0.8, (2, 6, 118, 2)).astype(np.float32)
    mask = np.ones((2, 6), bool)
    mirrored, _ = BatchAugmenter([Mirror(1.0)], layout, 0)(values, mask, 0, 0)
    twice, _ = BatchAugmenter([Mirror(1.0)], layout, 0)(mirrored, mask, 0, 0)
    np.testing.assert_allclose(twice, values, atol=1e-6)
    np.testing.assert_allclose(mirrored[:, :, 40:61], values[:, :, 61:82][..., [0, 1]] * [-1, 1] + [1, 0],
                               atol=1e-6)  # the left hand is the flipped right hand
