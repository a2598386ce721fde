"""Augmentations of one landmark sequence (T, 96, C), from the seed's `augmentations.py`, with its bugs fixed.

Fixed against the seed:
- `mirror` flips x and also swaps left and right (hands, pose points and lip points), so a mirrored left hand is a
  right hand.
- `scaling` and `rotation` act about the body's centre (the mean shoulder midpoint), not about the origin,
  so the signer stays where they were instead of sliding towards the image corner.
- `frame_dropout` resamples the kept frames back to the sequence's length and always keeps at least one frame.
- The seed's `normalize` and `standardize` (TODOs there) are not augmentations: normalisation is a deterministic
  input step (`preprocess.normalization`, asl.data.preprocess.normalize), the same in training and inference.
  Augmentations only perturb.

Missing landmarks are NaN and stay NaN at the same place (mirror moves them with their landmark; frame
dropout resamples them in time). Every function returns a new array of the input's dtype.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from asl.data.preprocess import MIRROR_AXIS, resize_frames, to_model_input
from asl.errors import AslError
from asl.landmarks import POSE_POINTS, mirror_permutation, selected_positions
from asl.params import AugmentConfig, FrameDropoutConfig, RotationConfig, ScalingConfig, ShiftConfig

#: MediaPipe pose indices of the left and right shoulders.
SHOULDER_POINTS = (11, 12)


def body_centre(values: np.ndarray) -> np.ndarray | None:
    """The centre (C,) that scaling and rotation keep fixed, or None when nothing is observed.

    The mean over frames of the shoulders' midpoint, from frames where both shoulders are observed; failing
    that, the mean of all observed points.
    """
    shoulders = values[:, selected_positions("pose")[np.isin(POSE_POINTS, SHOULDER_POINTS)]]  # (T, 2, C)
    both = ~np.isnan(shoulders).any(axis=(1, 2))  # (T,)
    if both.any():
        return shoulders[both].mean(axis=1).mean(axis=0)
    points = values.reshape(-1, values.shape[-1])  # (T*L, C)
    observed = ~np.isnan(points).any(axis=1)
    if observed.any():
        return points[observed].mean(axis=0)
    return None


def rotate_about(values: np.ndarray, degrees: float, centre: np.ndarray) -> np.ndarray:
    """Rotate (x, y) by `degrees` about `centre`'s (x, y); z is untouched.

    Standard rotation matrix on (x, y); with MediaPipe's y pointing down, a positive angle turns clockwise
    on screen.
    """
    angle = np.deg2rad(degrees)
    cos, sin = np.cos(angle), np.sin(angle)
    x, y = values[..., 0] - centre[0], values[..., 1] - centre[1]
    rotated = values.copy()
    rotated[..., 0] = centre[0] + cos * x - sin * y
    rotated[..., 1] = centre[1] + sin * x + cos * y
    return rotated


def shift(values: np.ndarray, config: ShiftConfig, rng: np.random.Generator) -> np.ndarray:
    """Add one random (x, y) offset, each uniform in ±max_shift, to every point."""
    offset = rng.uniform(-config.max_shift, config.max_shift, size=2)
    shifted = values.copy()
    shifted[..., :2] += offset.astype(values.dtype)
    return shifted


def mirror(values: np.ndarray, axis: float, rng: np.random.Generator) -> np.ndarray:
    """Flip horizontally about `axis` (x -> 2 axis - x; 0.5 for image coordinates: x -> 1 - x) and swap left and
    right landmarks, so the left hand becomes the right."""
    flipped = values.copy()
    flipped[..., 0] = 2 * axis - flipped[..., 0]
    return flipped[:, mirror_permutation()]


def frame_dropout(values: np.ndarray, config: FrameDropoutConfig, rng: np.random.Generator) -> np.ndarray:
    """Drop each frame with probability `rate` (keeping at least one) and resample back to the same length."""
    keep = rng.random(len(values)) >= config.rate
    if not keep.any():
        keep[rng.integers(len(values))] = True
    if keep.all():
        return values.copy()
    return resize_frames(values[keep], len(values))


def scaling(values: np.ndarray, config: ScalingConfig, rng: np.random.Generator) -> np.ndarray:
    """Scale all coordinates by one factor, uniform in [min_scale, max_scale], about the body's centre."""
    factor = rng.uniform(config.min_scale, config.max_scale)
    centre = body_centre(values)
    if centre is None:
        return values.copy()
    return (centre + factor * (values - centre)).astype(values.dtype)


def rotation(values: np.ndarray, config: RotationConfig, rng: np.random.Generator) -> np.ndarray:
    """Rotate (x, y) by an angle uniform in ±max_angle degrees about the body's centre; z is untouched."""
    degrees = rng.uniform(-config.max_angle, config.max_angle)
    centre = body_centre(values)
    if centre is None:
        return values.copy()
    return rotate_about(values, degrees, centre)


#: The methods named in `augment.methods` of params.yaml.
AUGMENTATIONS: dict[str, Callable[..., np.ndarray]] = {
    "shift": shift,
    "mirror": mirror,
    "frame_dropout": frame_dropout,
    "scaling": scaling,
    "rotation": rotation,
}
#: Former methods that are input steps now, and where they went.
MOVED_METHODS = {"normalize": "preprocess.normalization: minmax",
                 "standardize": "preprocess.normalization: standardize"}


def check_methods(methods: list[str]) -> None:
    """Raise `AslError` naming the first unknown method and listing the valid ones."""
    for method in methods:
        if method in MOVED_METHODS:
            raise AslError(f"augment.methods: {method!r} is no longer an augmentation (augmentations only perturb); "
                           f"remove it and set {MOVED_METHODS[method]}, applied alike in training and inference")
        if method not in AUGMENTATIONS:
            raise AslError(
                f"unknown augmentation method {method!r} in augment.methods; "
                f"valid methods are {', '.join(AUGMENTATIONS)}"
            )


def training_item(values: np.ndarray, row: int, config: AugmentConfig | None, probability: float, seed: int,
                  epoch: int, normalization: str = "none") -> tuple[np.ndarray, np.ndarray]:
    """One model input (values (T, L, C) with NaN as 0, frame mask (T,)) of `values[row]`, augmented.

    The item both frameworks' datasets serve (asl.data.dataset, asl.data.tf_data). The random stream depends
    only on (seed, epoch, row), so it does not depend on loader workers, batch order or framework.
    `normalization` is the one `values` were preprocessed with (mirroring flips about its axis).
    """
    sequence = np.array(values[row], dtype=np.float32)  # a copy out of the memory map
    if config is not None and probability > 0:
        rng = np.random.default_rng((seed, epoch, int(row)))
        sequence = augment_sequence(sequence, config, probability, rng, normalization)
    return to_model_input(sequence)


def augment_sequence(values: np.ndarray, config: AugmentConfig, probability: float, rng: np.random.Generator,
                     normalization: str = "none") -> np.ndarray:
    """Apply each method of `config.methods`, in order, each independently with `probability`.

    `values` are normalised by `normalization` (preprocess.normalization): a mirrored sequence is then what the
    normalisation of a mirrored recording would give.
    """
    check_methods(config.methods)
    settings = {"shift": config.shift, "mirror": MIRROR_AXIS[normalization], "frame_dropout": config.frame_dropout,
                "scaling": config.scaling, "rotation": config.rotation}
    augmented = values
    for method in config.methods:
        if rng.random() < probability:
            augmented = AUGMENTATIONS[method](augmented, settings[method], rng)
    return augmented.copy() if augmented is values else augmented
