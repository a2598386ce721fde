"""`asl export`: a trained model as a TFLite or ONNX file."""

from __future__ import annotations

from pathlib import Path

import typer

from asl.cli.options import CheckpointOption
from asl.errors import AslError, exit_on_user_error
from asl.inference.export import FORMATS


@exit_on_user_error
def export(
    format: str = typer.Option("tflite", "--format", help="tflite (TensorFlow models) or onnx (PyTorch models)"),
    checkpoint: CheckpointOption = Path("models/best"),
    out: Path = typer.Option(None, help="output file (default: models/model.<format>)"),
) -> None:
    """Export a trained model: TensorFlow to TFLite (raw landmarks of one sequence in, logits out), PyTorch to ONNX
    (the input pipeline's values and frame mask in, logits out); signs and input pipeline in the file's metadata."""
    if format not in FORMATS:
        raise AslError(f"--format {format!r} is not supported; choose {' or '.join(FORMATS)}")
    exporter, signature = FORMATS[format]
    out = out or Path(f"models/model.{format}")
    result = exporter(checkpoint, out)
    typer.echo(f"wrote {out} ({result.size / 1e6:.2f} MB, {result.ops}): {signature}")
