"""Size and per-sequence latency of the TFLite export (`asl export --format tflite`) on real competition files.

Usage: python benchmarks/tflite.py [--checkpoint models/best] [--raw-dir ../shared/data/gislr-sample]
Without --checkpoint, exports the params.yaml `TransformerPredictor` (untrained: size and speed do not depend on
the weights). Times exactly what a deployment runs, the TFLite interpreter with one thread on one raw sequence
(frames × 543 × 3), once per file after a warm-up call, and checks the outputs against the Keras model on the
numpy preprocessing. Prints one figure per line.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import typer

app = typer.Typer(add_completion=False)


@app.command()
def main(checkpoint: Path = typer.Option(None, help="a TensorFlow checkpoint folder or .keras file"),
         raw_dir: Path = Path("../shared/data/gislr-sample"), params: Path = Path("params.yaml")) -> None:
    import tensorflow as tf

    from asl.data.inputs import checkpoint_pipeline
    from asl.data.preprocess import to_model_input
    from asl.data.raw import read_landmarks
    from asl.inference.export import export_tflite
    from asl.models.config import InputShape
    from asl.models.registry import get_model_entry
    from asl.models.tf.base import load_model_from_checkpoint
    from asl.params import load_params

    config = load_params(params)
    with tempfile.TemporaryDirectory() as folder:
        if checkpoint is None:
            entry = get_model_entry("tensorflow", "TransformerPredictor")
            tf.keras.utils.set_random_seed(0)
            shape = InputShape(config.preprocess.frames, 96, len(config.data.coordinates))
            model = entry.model_class(entry.build_config(config.models["TransformerPredictor"]), shape, 250)
            checkpoint = Path(folder) / "model.keras"
            model.save_checkpoint(checkpoint, {"signs": [str(i) for i in range(250)],
                                               "params": dataclasses.asdict(config)})
        model, extras = load_model_from_checkpoint(checkpoint)
        size = export_tflite(checkpoint, Path(folder) / "model.tflite")
        run = tf.lite.Interpreter(str(Path(folder) / "model.tflite"), num_threads=1).get_signature_runner()
    channels = [("x", "y", "z").index(name) for name in extras["params"]["data"]["coordinates"]]
    pipeline = checkpoint_pipeline(extras)
    seconds, differences = [], []
    files = sorted((raw_dir / "train_landmark_files").glob("*/*.parquet"))
    for path in files:
        raw = read_landmarks(path, ("x", "y", "z")).values.astype(np.float32)
        run(inputs=raw)
        start = time.perf_counter()
        outputs = run(inputs=raw)["outputs"]
        seconds.append(time.perf_counter() - start)
        x, mask = to_model_input(pipeline.from_raw(raw[..., channels], require_usable=True))
        differences.append(np.abs(outputs - model([x[None], mask[None]], training=False).numpy()[0]).max())
    milliseconds = np.array(seconds) * 1000
    print(f"tflite_parameters: {model.count_params()}")
    print(f"tflite_size_mb: {size / 1e6:.2f}")
    print(f"tflite_files: {len(files)}")
    print(f"tflite_latency_median_ms_1_thread: {np.median(milliseconds):.2f}")
    print(f"tflite_latency_p95_ms_1_thread: {np.percentile(milliseconds, 95):.2f}")
    print(f"tflite_vs_keras_max_abs_difference: {max(differences):.2e}")


if __name__ == "__main__":
    app()
