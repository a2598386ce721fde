"""Size and per-sequence latency of the ONNX export (`asl export --format onnx`) on real competition files.

Usage: python benchmarks/onnx_export.py [--checkpoint models/best] [--model TransformerPredictor]
                                 [--raw-dir ../shared/data/gislr-sample]
Without --checkpoint, exports the params.yaml entry of `--model` (untrained: size and speed do not depend on the
weights). Times exactly what `asl predict ... --checkpoint model.onnx` runs per recording, ONNX Runtime's CPU
provider with one intra-op thread on the input pipeline's output (a batch of one), once per file after a warm-up
call, and checks the logits against the PyTorch model. The input pipeline itself (numpy, before the call) is
timed apart. Prints one figure per line. (Not named onnx.py: run as a script, that name would hide the onnx
package from the exporter.)
"""

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
def main(checkpoint: Path = typer.Option(None, help="a PyTorch checkpoint folder or .pt file"),
         model_name: str = typer.Option("TransformerPredictor", "--model", help="the model to export without "
                                        "--checkpoint"),
         raw_dir: Path = Path("../shared/data/gislr-sample"), params: Path = Path("params.yaml"),
         json: Path = JSON_OPTION) -> None:
    figures = Figures(json, sections="model")  # before any work: the load average at the start
    import onnxruntime
    import torch

    from asl.data.inputs import InputPipeline, checkpoint_pipeline
    from asl.data.preprocess import to_model_input
    from asl.data.raw import read_landmarks
    from asl.inference.export import export_onnx
    from asl.models.config import InputShape
    from asl.models.registry import get_model_entry
    from asl.models.torch.base import load_model_from_checkpoint
    from asl.params import load_params

    config = load_params(params)
    with tempfile.TemporaryDirectory() as folder:
        if checkpoint is None:
            config = dataclasses.replace(config, model=model_name)
            pipeline = InputPipeline.of(config)
            entry = get_model_entry("pytorch", model_name)
            torch.manual_seed(0)
            shape = InputShape(pipeline.frames, pipeline.landmarks, len(config.data.coordinates))
            built = entry.model_class(entry.build_config(config.models[model_name]), shape, 250)
            checkpoint = Path(folder) / "model.pt"
            built.save_checkpoint(checkpoint, {"signs": [str(i) for i in range(250)], "inputs": pipeline.record(),
                                               "params": dataclasses.asdict(config)})
        model, extras = load_model_from_checkpoint(checkpoint)
        size = export_onnx(checkpoint, Path(folder) / "model.onnx").size
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(Path(folder) / "model.onnx"), options,
                                               providers=["CPUExecutionProvider"])
    pipeline = checkpoint_pipeline(extras)
    channels = [("x", "y", "z").index(name) for name in pipeline.layout.coordinates]
    seconds, pipeline_seconds, differences = [], [], []
    files = sorted((raw_dir / "train_landmark_files").glob("*/*.parquet"))
    torch.set_num_threads(1)
    for path in files:
        raw = read_landmarks(path, ("x", "y", "z")).values[..., channels]
        start = time.perf_counter()
        values, mask = to_model_input(pipeline.from_raw(raw, require_usable=True)[None])
        pipeline_seconds.append(time.perf_counter() - start)
        feed = {"values": values, "mask": mask}
        session.run(["logits"], feed)
        start = time.perf_counter()
        logits = session.run(["logits"], feed)[0]
        seconds.append(time.perf_counter() - start)
        with torch.no_grad():
            expected = model(torch.from_numpy(values), torch.from_numpy(mask)).numpy()
        differences.append(np.abs(logits - expected).max())
    milliseconds, pipeline_milliseconds = np.array(seconds) * 1000, np.array(pipeline_seconds) * 1000
    print(f"onnx_model: {type(model).__name__}")
    figures.section(type(model).__name__)
    figures.line("onnx_parameters", sum(p.numel() for p in model.parameters()))
    figures.line("onnx_size_mb", size / 1e6, ".2f")
    figures.line("onnx_files", len(files))
    figures.line("onnx_latency_median_ms_1_thread", np.median(milliseconds), ".2f")
    figures.line("onnx_latency_p95_ms_1_thread", np.percentile(milliseconds, 95), ".2f")
    figures.line("onnx_input_pipeline_median_ms", np.median(pipeline_milliseconds), ".2f")
    figures.line("onnx_vs_pytorch_max_abs_difference", max(differences), ".2e")
    figures.write()

if __name__ == "__main__":
    app()
