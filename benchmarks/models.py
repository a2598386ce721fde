"""Size and speed of every registered PyTorch model, against the GISLR deployment limits (40 MB, 100 ms per sequence).

Usage: python benchmarks/models.py [--device auto] [--models TransformerPredictor,HybridModel] [--classes 250]
Each model is built from its params.yaml entry for inputs of the shape its input transform gives (the seed models:
preprocess.frames × 96 landmarks × data.coordinates, 32 × 96 × 2 by default; variable-length models: their
max_frames, all real) and 250 classes (GISLR's signs). Times exactly what the pipeline runs:
`BaseModel.training_step` (the native trainer's step; Lightning runs the same forward, loss and optimizer) on
random batches of `train.batch_size`, and `BaseModel.predict_logits` (what evaluation and inference call) on one
sequence with one CPU thread. Prints one line per model: parameters, checkpoint size (`save_checkpoint`), training
throughput (sequences/s, median of `--train-batches` batches after one warm-up), inference latency (median and p95
over `--runs` calls after warm-up), the median latency of the frozen TorchScript copy that `asl predict` uses
(`freeze_for_inference`; "eager" where the model stays eager), and whether it fits the limits (checkpoint ≤ 40 MB
and p95 ≤ 100 ms).

`--framework tensorflow` prints the same columns for the TensorFlow models: the TF trainer's step
(`asl.training.tf_trainer.make_train_step`), the `.keras` checkpoint (with extras.json), and the latency of the
model exported as `asl export --format tflite` does (raw 543-landmark frames in, preprocessing inside) in the TFLite
interpreter with one thread, the GISLR deployment path.
"""

from __future__ import annotations

import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import typer
from figures import JSON_OPTION, Figures

from asl.data.inputs import InputPipeline
from asl.models.config import InputShape
from asl.models.registry import get_model_entry, model_names
from asl.models.torch.base import BaseModel, FrozenModel, freeze_for_inference
from asl.params import load_params
from asl.models.torch.base import resolve_device

LIMIT_MB, LIMIT_MS = 40.0, 100.0
app = typer.Typer(add_completion=False)


def timed(work, device: torch.device) -> float:
    """Seconds one call of `work` takes, waiting for the GPU when there is one."""
    start = time.perf_counter()
    work()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def random_batch(size: int, shape: InputShape, classes: int, device: torch.device):
    generator = torch.Generator().manual_seed(size)
    x = torch.randn(size, shape.frames, shape.landmarks, shape.coordinates, generator=generator)
    mask = torch.ones(size, shape.frames, dtype=torch.bool)
    labels = torch.randint(0, classes, (size,), generator=generator)
    return x.to(device), mask.to(device), labels.to(device)


def checkpoint_megabytes(model: BaseModel, classes: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.pt"
        model.save_checkpoint(path, {"signs": [f"sign{i}" for i in range(classes)]})
        return path.stat().st_size / 1e6


def training_throughput(model: BaseModel, batch_size: int, batches: int, shape: InputShape, classes: int,
                        device: torch.device) -> float:
    """Sequences per second of the training step (median over batches, after one warm-up step)."""
    optimizer, _ = model.configure_optimizers()
    x, mask, labels = random_batch(batch_size, shape, classes, device)
    step = lambda: model.training_step(x, mask, labels, optimizer)  # noqa: E731
    timed(step, device)
    return batch_size / statistics.median(timed(step, device) for _ in range(batches))


def inference_latency(model: BaseModel | FrozenModel, runs: int, shape: InputShape, classes: int,
                      device: torch.device) -> tuple[float, float]:
    """Median and p95 milliseconds of `predict_logits` on one sequence with one CPU thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        x, mask, _ = random_batch(1, shape, classes, device)
        call = lambda: model.predict_logits(x, mask)  # noqa: E731
        for _ in range(5):
            timed(call, device)
        times = np.array([timed(call, device) for _ in range(runs)]) * 1000
    finally:
        torch.set_num_threads(threads)
    return float(np.median(times)), float(np.percentile(times, 95))


def tensorflow_row(name: str, config, pipeline: InputPipeline, shape: InputShape, classes: int, batches: int,
                   runs: int) -> dict:
    """The same columns for a TensorFlow model (see the module's docstring)."""
    import tensorflow as tf

    from asl.inference.export import convert, raw_landmark_archive
    from asl.training.tf_trainer import make_train_step

    tf.keras.utils.set_random_seed(0)
    entry = get_model_entry("tensorflow", name)
    model = entry.model_class(entry.build_config(config.models.get(name, {})), shape, classes)
    x, mask, labels = (array.cpu().numpy() for array in random_batch(config.train.batch_size, shape, classes,
                                                                       torch.device("cpu")))
    step = make_train_step(model, model.configure_optimizers(steps_per_epoch=100))
    train = lambda: step(x, mask, labels)[0].numpy()  # noqa: E731
    train()
    throughput = config.train.batch_size / statistics.median(timed(train, torch.device("cpu")) for _ in range(batches))
    with tempfile.TemporaryDirectory() as folder:
        model.save_checkpoint(Path(folder) / "model.keras", {"signs": [f"sign{i}" for i in range(classes)],
                                                             "params": dataclasses.asdict(config)})
        size = sum(path.stat().st_size for path in Path(folder).iterdir()) / 1e6
        raw_landmark_archive(model, pipeline).write_out(folder + "/saved", verbose=False)
        flatbuffer, _ = convert(tf.lite.TFLiteConverter.from_saved_model(folder + "/saved"))
    run = tf.lite.Interpreter(model_content=flatbuffer, num_threads=1).get_signature_runner()
    raw = np.random.default_rng(0).uniform(0.1, 0.9, size=(shape.frames, 543, 3)).astype(np.float32)
    call = lambda: run(inputs=raw)  # noqa: E731
    for _ in range(5):
        call()
    times = np.array([timed(call, torch.device("cpu")) for _ in range(runs)]) * 1000
    median, p95 = float(np.median(times)), float(np.percentile(times, 95))
    return row(model.count_params(), size, throughput, median, p95, "-")  # no TorchScript


def row(parameters: int, size: float, throughput: float, median: float, p95: float, frozen: float | str) -> dict:
    """One model's figures as printed (rounded); `frozen`: milliseconds, "eager" (not frozen) or "-" (TensorFlow)."""
    return {"parameters": parameters, "checkpoint_MB": round(size, 1), "train_seq_per_s": round(throughput),
            "latency_median_ms": round(median, 1), "latency_p95_ms": round(p95, 1),
            "frozen_median_ms": frozen if isinstance(frozen, str) else round(frozen, 1),
            "fits_gislr": "yes" if size <= LIMIT_MB and p95 <= LIMIT_MS else "no"}


@app.command()
def main(params: Path = Path("params.yaml"), device: str = "auto",
         framework: str = typer.Option("pytorch", help="pytorch or tensorflow"),
         models: str = typer.Option("", help="comma-separated names; all registered PyTorch models by default"),
         classes: int = 250, train_batches: int = 3, runs: int = 50, json: Path = JSON_OPTION) -> None:
    config = load_params(params)
    torch_device = resolve_device(device)
    names = [name for name in models.split(",") if name] or model_names(framework)
    figures = Figures(json, sections="model")
    typer.echo(f"device {torch_device}, {classes} classes, batch {config.train.batch_size}; limits {LIMIT_MB:.0f} MB "
               f"and {LIMIT_MS:.0f} ms (p95); input: frames x landmarks x coordinates, every frame real")
    typer.echo("model input parameters checkpoint_MB train_seq_per_s latency_median_ms latency_p95_ms "
               "frozen_median_ms fits_gislr")
    for name in names:
        pipeline = InputPipeline.of(dataclasses.replace(config, model=name, framework=framework))
        shape = InputShape(pipeline.frames, pipeline.landmarks, len(config.data.coordinates))
        if framework == "tensorflow":
            figures_row = tensorflow_row(name, config, pipeline, shape, classes, train_batches, runs)
        else:
            entry = get_model_entry("pytorch", name)
            torch.manual_seed(0)
            model = entry.model_class(entry.build_config(config.models.get(name, {})), shape, classes).to(torch_device)
            size = checkpoint_megabytes(model, classes)
            throughput = training_throughput(model, config.train.batch_size, train_batches, shape, classes,
                                             torch_device)
            median, p95 = inference_latency(model, runs, shape, classes, torch_device)
            frozen = freeze_for_inference(model)
            frozen_median = inference_latency(frozen, runs, shape, classes, torch_device)[0] if frozen else "eager"
            figures_row = row(sum(p.numel() for p in model.parameters()), size, throughput, median, p95,
                              frozen_median)
        figures_row = {"input": f"{shape.frames}x{shape.landmarks}x{shape.coordinates}", **figures_row}
        typer.echo(" ".join(map(str, [name, *figures_row.values()])))
        figures.row(name, figures_row)
    figures.write()


if __name__ == "__main__":
    app()
