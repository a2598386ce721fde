"""Batched augmentation (asl.data.batch_augment) against today's per-item numpy loop (asl.data.augment).

Usage: python benchmarks/augment.py [--batch 512] [--frames 384] [--landmarks 118] [--coordinates 2] [--repeats 3]
       [--device cpu --device cuda] [--threads N]
One batch of random points (every frame real) is augmented with each method that both have (shift, mirror,
frame_dropout, scaling, rotation; probability 1), then with all five, by `augment.augment_sequence` over its
sequences one by one (numpy) and by `BatchAugmenter` on the whole batch: torch on each `--device`, and numpy (the
tf.data path); then the 1st-place recipe (resample, mirror, affine, frame_mask, cutout at its probabilities),
batched only. The per-item mirror reads the 96-point selection's permutation, so on 118 landmarks it gathers 96.
Medians of `--repeats` runs after one warm-up; on CUDA each run ends with a synchronisation. One figure per line,
with the ratio per-item / batched. `--threads`: torch's CPU threads (default: torch's own choice).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
import typer

from asl.data.augment import augment_sequence
from asl.data.batch_augment import (
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
)
from asl.params import AugmentConfig, FrameDropoutConfig, RotationConfig, ScalingConfig, ShiftConfig

PER_ITEM = AugmentConfig(probability=1.0, methods=[], shift=ShiftConfig(0.01), frame_dropout=FrameDropoutConfig(0.05),
                         scaling=ScalingConfig(0.9, 1.1), rotation=RotationConfig(10.0))
BATCHED = {"shift": Shift(1.0, 0.01), "mirror": Mirror(1.0), "frame_dropout": FrameDropout(1.0, 0.05),
           "scaling": Scaling(1.0, 0.9, 1.1), "rotation": Rotation(1.0, 10.0)}
RECIPE = [Resample(0.8), Mirror(0.5), Affine(0.75), FrameMask(0.5), Cutout(0.5)]


def median_seconds(run, repeats: int, sync=lambda: None) -> float:
    run()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(batch: int = 512, frames: int = 384, landmarks: int = 118, coordinates: int = 2, repeats: int = 3,
         device: list[str] = typer.Option(["cpu"]), threads: int = 0) -> None:
    if threads:
        torch.set_num_threads(threads)
    values = np.random.default_rng(0).uniform(0.2, 0.8, (batch, frames, landmarks, coordinates)).astype(np.float32)
    mask = np.ones((batch, frames), dtype=bool)
    layout = Layout(np.arange(landmarks)[::-1].copy(), np.array([0, 1]))
    print(f"batch {values.shape} float32, torch threads {torch.get_num_threads()}")
    groups = [([name], [augmentation]) for name, augmentation in BATCHED.items()]
    groups.append((list(BATCHED), list(BATCHED.values())))
    for methods, augmentations in groups:
        config = AugmentConfig(**{**PER_ITEM.__dict__, "methods": methods})

        def per_item() -> None:
            rng = np.random.default_rng(0)
            for row in range(batch):
                augment_sequence(values[row], config, 1.0, rng)

        label = "+".join(methods)
        item_seconds = median_seconds(per_item, repeats)
        print(f"{label}: per-item numpy loop {item_seconds * 1000:.0f} ms")
        report(label, augmentations, layout, values, mask, device, repeats, item_seconds)
    report("1st-place recipe", RECIPE, layout, values, mask, device, repeats, None)


def report(label, augmentations, layout, values, mask, devices, repeats, item_seconds) -> None:
    augmenter = BatchAugmenter(augmentations, layout, seed=0)
    seconds = median_seconds(lambda: augmenter(values, mask, 0, 0), repeats)
    print(f"{label}: batched numpy {seconds * 1000:.0f} ms" + ratio(item_seconds, seconds))
    for device in devices:
        tensor, tensor_mask = torch.from_numpy(values).to(device), torch.from_numpy(mask).to(device)
        sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
        seconds = median_seconds(lambda: augmenter(tensor, tensor_mask, 0, 0), repeats, sync)
        print(f"{label}: batched torch {device} {seconds * 1000:.1f} ms" + ratio(item_seconds, seconds))


def ratio(item_seconds: float | None, seconds: float) -> str:
    return "" if item_seconds is None else f" (per-item / batched: {item_seconds / seconds:.1f}x)"


if __name__ == "__main__":
    typer.run(main)
