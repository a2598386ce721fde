"""Robustness: the same checkpoint's accuracy on the same test recordings when the raw sequences are perturbed
before preprocessing (frames lost, another signing speed, jitter, a left-handed signer, no face found).

Every perturbation takes raw Holistic frames (T, 543, C), a random generator and the coordinate names, and returns
new frames; missing values stay missing.
"""

from __future__ import annotations

import functools
import itertools
from pathlib import Path
from typing import Callable

import numpy as np

from asl.data.parallel import map_in_order
from asl.data.inputs import InputPipeline, pad_batch
from asl.data.raw import read_landmarks
from asl.landmarks import holistic_mirror_permutation, part_rows

Perturbation = Callable[[np.ndarray, np.random.Generator, tuple[str, ...]], np.ndarray]
SHOULDERS = (11, 12)  # MediaPipe pose indices of the left and right shoulders
NOISE_SHARE = 0.01  # noise_1pct: standard deviation as a share of the body's scale
CHUNK = 256  # recordings perturbed and scored at once (memory: 8 x CHUNK preprocessed inputs)


def drop_frames(values: np.ndarray, rng: np.random.Generator, share: float) -> np.ndarray:
    """Remove `share` of the frames at random (in order; at least one frame stays)."""
    keep = max(1, len(values) - round(share * len(values)))
    return values[np.sort(rng.choice(len(values), size=keep, replace=False))]


def change_speed(values: np.ndarray, factor: float) -> np.ndarray:
    """Sign `factor` times as fast: resampled in time to len / factor frames (linear; nearest frame where either
    neighbour is missing)."""
    length = max(1, round(len(values) / factor))
    position = np.linspace(0, len(values) - 1, length)
    lower = np.floor(position).astype(int)
    upper = np.minimum(lower + 1, len(values) - 1)
    weight = (position - lower)[:, None, None]
    blended = values[lower] * (1 - weight) + values[upper] * weight
    nearest = values[np.rint(position).astype(int)]
    return np.where(np.isnan(blended), nearest, blended).astype(values.dtype)


def body_scale(values: np.ndarray) -> float:
    """The shoulders' distance in (x, y) (median over frames where both are seen); failing that, the largest extent
    of all observed points; 0 when nothing is observed."""
    pose = part_rows("pose")
    shoulders = values[:, pose[list(SHOULDERS)], :2]  # (T, 2, 2)
    distance = np.linalg.norm(shoulders[:, 0] - shoulders[:, 1], axis=-1)  # (T,)
    if (~np.isnan(distance)).any():
        return float(np.nanmedian(distance))
    points = values[..., :2].reshape(-1, 2)
    points = points[~np.isnan(points).any(axis=1)]
    return float((points.max(axis=0) - points.min(axis=0)).max()) if len(points) else 0.0


def add_noise(values: np.ndarray, rng: np.random.Generator, share: float = NOISE_SHARE) -> np.ndarray:
    """Gaussian noise with a standard deviation of `share` of the body's scale on every coordinate."""
    return (values + rng.normal(0.0, share * body_scale(values), size=values.shape)).astype(values.dtype)


def mirror(values: np.ndarray, coordinates: tuple[str, ...]) -> np.ndarray:
    """A left-handed signer: x -> 1 - x, with the hands, the pose's and the lips' left and right points swapped."""
    mirrored = values[:, holistic_mirror_permutation()]
    x = coordinates.index("x")
    mirrored[..., x] = 1 - mirrored[..., x]
    return mirrored


def without_face(values: np.ndarray) -> np.ndarray:
    """No face found in any frame (MediaPipe finds the face mesh whole or not at all): lips missing."""
    missing = values.copy()
    missing[:, part_rows("face")] = np.nan
    return missing


PERTURBATIONS: dict[str, Perturbation] = {
    "clean": lambda values, rng, coordinates: values,
    "frame_drop_25": lambda values, rng, coordinates: drop_frames(values, rng, 0.25),
    "frame_drop_50": lambda values, rng, coordinates: drop_frames(values, rng, 0.50),
    "speed_0.5x": lambda values, rng, coordinates: change_speed(values, 0.5),
    "speed_2x": lambda values, rng, coordinates: change_speed(values, 2.0),
    "noise_1pct": lambda values, rng, coordinates: add_noise(values, rng),
    "mirrored": lambda values, rng, coordinates: mirror(values, coordinates),
    "lips_missing": lambda values, rng, coordinates: without_face(values),
}


def perturbed_inputs(item: tuple[int, Path], pipeline: InputPipeline, seed: int) -> list[np.ndarray]:
    """One recording, read once, under every perturbation: its model inputs (frames, L, C), one per perturbation.

    The random stream depends only on (seed, recording number, perturbation), not on batching or workers.
    """
    number, path = item
    coordinates = pipeline.layout.coordinates
    raw = read_landmarks(path, coordinates).values
    return [pipeline.from_raw(perturb(raw, np.random.default_rng([seed, number, k]), coordinates))
            for k, perturb in enumerate(PERTURBATIONS.values())]


def robustness_accuracy(predictor, paths: list[Path], labels: np.ndarray, pipeline: InputPipeline, seed: int,
                        batch_size: int) -> dict[str, float]:
    """Accuracy of `predictor` on the recordings `paths` (true `labels`) under each of `PERTURBATIONS`, their
    inputs built by `pipeline` (the checkpoint's)."""
    correct = np.zeros(len(PERTURBATIONS), dtype=int)
    read = functools.partial(perturbed_inputs, pipeline=pipeline, seed=seed)
    results = map_in_order(read, enumerate(paths), len(paths), 1, "robustness")
    for start in range(0, len(paths), CHUNK):
        chunk = list(itertools.islice(results, CHUNK))  # per recording, per perturbation
        truth = labels[start:start + len(chunk)]
        for k in range(len(PERTURBATIONS)):
            inputs = pad_batch([recording[k] for recording in chunk])  # (n, frames, L, C)
            correct[k] += int((predictor.predict_probabilities(inputs, None, batch_size).argmax(axis=1) == truth).sum())
    return {name: float(hits / len(paths)) for name, hits in zip(PERTURBATIONS, correct)}
