"""Batched augmentation (asl.data.augment): what each method costs on a whole batch, in numpy (the tf.data path) and
in torch on each device.

Usage: python benchmarks/augment.py [--batch 512] [--frames 384] [--landmarks 118] [--coordinates 2] [--repeats 3]
       [--device cpu --device cuda] [--threads N] [--tiny-batch 8] [--tiny-frames 16] [--tiny-repeats 200]
One batch of random points (every frame real) is augmented by `BatchAugmenter` with each method alone (probability
1), then with the 1st-place recipe (resample, mirror, affine, frame_mask, cutout at its probabilities), then with
params.yaml's `augment.methods` as training builds them (`training_augmenter` for the selected model's landmark
groups and frames; a method without a probability of its own at 1). Medians of `--repeats` runs after one warm-up;
on CUDA each run ends with a synchronisation. One figure per line: milliseconds per batch and sequences per second.
`--threads`: torch's CPU threads (default: torch's own choice). Whether augmentation slows training is
benchmarks/scale.py's figure (a whole epoch against its steps alone).

Last, three proxies of params.yaml's methods' host overhead per batch on a GPU, taken on a tiny batch of torch CPU
tensors (`--tiny-batch` × `--tiny-frames` frames: one chunk, as on a GPU), where the work on the data is negligible:
`torch_ops_per_batch` (aten ops dispatched: each costs the host a dispatch, most launch a kernel on a GPU; how many
does not depend on the probabilities), `host_to_device_copies_per_batch` (counted with the batch on torch's meta
device, which runs every op without data: a copy is an op from a CPU tensor to a meta one) and
`host_ms_per_batch_tiny` (median wall time of `--tiny-repeats` batches on one torch thread: on a tiny batch more
threads only add their synchronisation, which dominates on a shared machine). Then the same methods compiled, as
`train.compile` runs them: `compiled_kernels_per_batch` (the kernels torch.compile's inductor generates for their
one graph, here for the CPU; for a GPU it generates Triton kernels, whose count may differ) and
`host_ms_per_batch_tiny_compiled`. And what of the host's work grows with the batch: `host_draw_ms_per_batch`,
drawing the parameters of a whole batch (`--batch` sequences; frame dropout's per-frame numbers are made on the
device, so the frames do not count), median of `--tiny-repeats`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import typer
from figures import JSON_OPTION, Figures
from torch._inductor import metrics as inductor_metrics
from torch._inductor.runtime.cache_dir_utils import temporary_cache_dir
from torch.utils._python_dispatch import TorchDispatchMode

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
    training_augmenter,
)
from asl.data.inputs import InputPipeline
from asl.params import load_params

PARAMS_YAML = Path(__file__).resolve().parent.parent / "params.yaml"

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


class OpCounter(TorchDispatchMode):
    """Counts the aten ops dispatched while active, and among them the copies from the host (CPU) to the meta
    device."""

    COPIES = {torch.ops.aten._to_copy.default, torch.ops.aten.copy_.default}

    def __init__(self):
        super().__init__()
        self.ops = self.copies_to_device = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops += 1
        result = func(*args, **(kwargs or {}))
        if func in self.COPIES and args[0].device.type == "cpu" and result.device.type == "meta":
            self.copies_to_device += 1
        return result


def params_augmenter(compiled: bool = False) -> tuple[BatchAugmenter, int]:
    """params.yaml's `augment.methods` as training builds them for the selected model (a method without a
    probability of its own at probability 1; `compiled`: as with `train.compile`), and the model's landmarks."""
    params = load_params(PARAMS_YAML)
    pipeline = InputPipeline.of(params)
    augmenter = training_augmenter(params.augment, 1.0, pipeline.groups, params.preprocess.normalization,
                                   params.seed, pipeline.frames, compiled)
    return augmenter, pipeline.landmarks


def main(batch: int = 512, frames: int = 384, landmarks: int = 118, coordinates: int = 2, repeats: int = 3,
         device: list[str] = typer.Option(["cpu"]), threads: int = 0, tiny_batch: int = 8, tiny_frames: int = 16,
         tiny_repeats: int = 200, json: Path = JSON_OPTION) -> None:
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
    augmenter, model_landmarks = params_augmenter()
    methods = ", ".join(step.name for step in augmenter.augmentations)
    label = f"params.yaml methods ({methods})"
    if model_landmarks == landmarks:
        report(figures, label, augmenter, layout, values, mask, device, repeats)
    else:
        print(f"{label}: the model reads {model_landmarks} landmarks, not {landmarks}: no figures of the batch")
        figures.section(label)
    host_overhead(figures, augmenter, tiny_batch, tiny_frames, model_landmarks, coordinates, tiny_repeats)
    draw_seconds = median_seconds(lambda: augmenter.draw(batch, 0, 0), tiny_repeats)
    figures.line("host_draw_ms_per_batch", draw_seconds * 1000, ".2f")
    figures.write()


def host_overhead(figures, augmenter, batch, frames, landmarks, coordinates, repeats) -> None:
    """The augmenter's host overhead per batch on a tiny batch of torch CPU tensors (see the module's docstring)."""
    values = torch.from_numpy(np.random.default_rng(1).uniform(0.2, 0.8, (batch, frames, landmarks, coordinates))
                              .astype(np.float32))
    mask = torch.ones(batch, frames, dtype=torch.bool)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    augmenter(values, mask, 0, 0)  # warm-up
    with OpCounter() as counter:
        augmenter(values, mask, 0, 1)
    meta_values, meta_mask = values.to("meta"), mask.to("meta")
    with OpCounter() as on_meta:
        augmenter(meta_values, meta_mask, 0, 1)
    seconds = median_seconds(lambda: augmenter(values, mask, 0, 3), repeats)
    compiled, _ = params_augmenter(compiled=True)
    with tempfile.TemporaryDirectory(prefix="asl-inductor-") as cache, temporary_cache_dir(cache):
        inductor_metrics.reset()  # the cache starts empty: every kernel is generated and counted
        compiled(values, mask, 0, 0)
        kernels = inductor_metrics.generated_kernel_count
        compiled_seconds = median_seconds(lambda: compiled(values, mask, 0, 3), repeats)
    torch.set_num_threads(threads)
    print(f"tiny batch ({batch}, {frames}, {landmarks}, {coordinates}) of torch CPU tensors:")
    figures.line("torch_ops_per_batch", counter.ops)
    figures.line("host_to_device_copies_per_batch", on_meta.copies_to_device)
    figures.line("host_ms_per_batch_tiny", seconds * 1000, ".2f")
    figures.line("compiled_kernels_per_batch", kernels)
    figures.line("host_ms_per_batch_tiny_compiled", compiled_seconds * 1000, ".2f")


def report(figures, label, augmentations, layout, values, mask, devices, repeats) -> None:
    """`augmentations`: a list (applied by a `BatchAugmenter` of the batch's layout), or a `BatchAugmenter`."""
    augmenter = augmentations if isinstance(augmentations, BatchAugmenter) else BatchAugmenter(
        augmentations, layout, seed=0, max_frames=values.shape[1])
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
