"""Size and per-sequence latency of the TFLite export (`asl export --format tflite`) on real competition files.

Usage: python benchmarks/tflite.py [--checkpoint models/best | --model NAME ...]
                                   [--raw-dir ../shared/data/gislr-sample]
Without --checkpoint, exports each `--model` (default: TransformerPredictor and Conv1DTransformer) as params.yaml
configures it (untrained: size and speed do not depend on the weights). Times exactly what a deployment runs, the
TFLite interpreter with one thread on one raw sequence (frames × 543 × 3), once per file after a warm-up call, and
checks the outputs against the Keras model on the numpy preprocessing. Prints one figure per line."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import typer
from figures import JSON_OPTION, Figures

app = typer.Typer(add_completion=False)


@app.command()
def main(checkpoint: Path = typer.Option(None, help="a TensorFlow checkpoint folder or .keras file"),
         model: list[str] = typer.Option(["TransformerPredictor", "Conv1DTransformer"],
                                         help="without --checkpoint: the TensorFlow models to export"),
         raw_dir: Path = Path("../shared/data/gislr-sample"), params: Path = Path("params.yaml"),
         json: Path = JSON_OPTION) -> None:
    from asl.params import load_params

    config = load_params(params)
    files = sorted((raw_dir / "train_landmark_files").glob("*/*.parquet"))
    figures = Figures(json, sections="model")
    if checkpoint is not None:
        figures.section(str(checkpoint))
        measure(figures, checkpoint, files)
    for name in [] if checkpoint is not None else model:
        with tempfile.TemporaryDirectory() as folder:
            print(f"tflite_model: {name}")
            figures.section(name)
            measure(figures, untrained_checkpoint(config, name, Path(folder)), files)
    figures.write()


def untrained_checkpoint(config, name: str, folder: Path) -> Path:
    """A checkpoint of the params.yaml model `name`, freshly initialised, as the train stage saves it."""
    import tensorflow as tf

    from asl.data.inputs import InputPipeline
    from asl.models.config import InputShape
    from asl.models.registry import get_model_entry

    config = dataclasses.replace(config, framework="tensorflow", model=name)
    pipeline = InputPipeline.of(config)
    entry = get_model_entry("tensorflow", name)
    tf.keras.utils.set_random_seed(0)
    shape = InputShape(pipeline.frames, pipeline.landmarks, len(config.data.coordinates))
    model = entry.model_class(entry.build_config(config.models[name]), shape, 250)
    path = folder / "model.keras"
    model.save_checkpoint(path, {"signs": [str(i) for i in range(250)], "params": dataclasses.asdict(config),
                                 "inputs": pipeline.record()})
    return path


def measure(figures: Figures, checkpoint: Path, files: list[Path]) -> None:
    """Export `checkpoint`, time its TFLite model on each file and compare it with the Keras model; print."""
    import tensorflow as tf

    from asl.data.inputs import checkpoint_pipeline
    from asl.data.preprocess import to_model_input
    from asl.data.raw import read_landmarks
    from asl.inference.export import export_tflite
    from asl.models.tf.base import load_model_from_checkpoint

    model, extras = load_model_from_checkpoint(checkpoint)
    with tempfile.TemporaryDirectory() as folder:
        export = export_tflite(checkpoint, Path(folder) / "model.tflite")
        run = tf.lite.Interpreter(str(Path(folder) / "model.tflite"), num_threads=1).get_signature_runner()
    pipeline = checkpoint_pipeline(extras)
    channels = [("x", "y", "z").index(name) for name in pipeline.layout.coordinates]
    seconds, differences = [], []
    for path in files:
        raw = read_landmarks(path, ("x", "y", "z")).values.astype(np.float32)
        run(inputs=raw)
        start = time.perf_counter()
        outputs = run(inputs=raw)["outputs"]
        seconds.append(time.perf_counter() - start)
        x, mask = to_model_input(pipeline.from_raw(raw[..., channels], require_usable=True))
        differences.append(np.abs(outputs - model([x[None], mask[None]], training=False).numpy()[0]).max())
    milliseconds = np.array(seconds) * 1000
    figures.line("tflite_parameters", model.count_params())
    figures.line("tflite_size_mb", export.size / 1e6, ".2f")
    figures.line("tflite_builtin_ops_only", export.builtin_ops)
    figures.line("tflite_files", len(files))
    figures.line("tflite_latency_median_ms_1_thread", np.median(milliseconds), ".2f")
    figures.line("tflite_latency_p95_ms_1_thread", np.percentile(milliseconds, 95), ".2f")
    figures.line("tflite_vs_keras_max_abs_difference", max(differences), ".2e")

if __name__ == "__main__":
    app()
