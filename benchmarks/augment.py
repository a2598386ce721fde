"""Batched augmentation (asl.data.augment): what each method costs on a whole batch, in numpy (the tf.data path) and
in torch on each device.

Usage: python benchmarks/augment.py [--batch 512] [--frames 384] [--landmarks 118] [--coordinates 2] [--repeats 3]
       [--device cpu --device cuda] [--threads N]
One batch of random points (every frame real) is augmented by `BatchAugmenter` with each method alone (probability
1), then with the 1st-place recipe (resample, mirror, affine, frame_mask, cutout at its probabilities). Medians of
`--repeats` runs after one warm-up; on CUDA each run ends with a synchronisation. One figure per line: milliseconds
per batch and sequences per second. `--threads`: torch's CPU threads (default: torch's own choice). Whether
augmentation slows training is benchmarks/scale.py's figure (a whole epoch against its steps alone).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch
import typer
from figures import JSON_OPTION, Figures

from asl.data.augment import (
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

EACH = [Shift(1.0, 0.01), Mirror(1.0), FrameDropout(1.0, 0.05), Scaling(1.0, 0.9, 1.1), Rotation(1.0, 10.0),
        Resample(1.0), Affine(1.0), FrameMask(1.0), Cutout(1.0)]
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
         device: list[str] = typer.Option(["cpu"]), threads: int = 0, json: Path = JSON_OPTION) -> None:
    if threads:
        torch.set_num_threads(threads)
    values = np.random.default_rng(0).uniform(0.2, 0.8, (batch, frames, landmarks, coordinates)).astype(np.float32)
    mask = np.ones((batch, frames), dtype=bool)
    layout = Layout(np.arange(landmarks)[::-1].copy(), np.array([0, 1]))
    print(f"batch {values.shape} float32, torch threads {torch.get_num_threads()}")
    figures = Figures(json, sections="augmentation")
    for augmentation in EACH:
        report(figures, augmentation.name, [augmentation], layout, values, mask, device, repeats)
    report(figures, "1st-place recipe", RECIPE, layout, values, mask, device, repeats)
    figures.write()


def report(figures, label, augmentations, layout, values, mask, devices, repeats) -> None:
    augmenter = BatchAugmenter(augmentations, layout, seed=0, max_frames=values.shape[1])
    seconds = median_seconds(lambda: augmenter(values, mask, 0, 0), repeats)
    print(f"{label}: batched numpy {seconds * 1000:.0f} ms ({len(values) / seconds:.0f} sequences/s)")
    figures.section(label)
    figures.record("numpy_ms_per_batch", round(seconds * 1000))
    for device in devices:
        tensor, tensor_mask = torch.from_numpy(values).to(device), torch.from_numpy(mask).to(device)
        sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
        seconds = median_seconds(lambda: augmenter(tensor, tensor_mask, 0, 0), repeats, sync)
        print(f"{label}: batched torch {device} {seconds * 1000:.1f} ms ({len(values) / seconds:.0f} sequences/s)")
        figures.record(f"torch_{device}_ms_per_batch", round(seconds * 1000, 1))


if __name__ == "__main__":
    typer.run(main)
