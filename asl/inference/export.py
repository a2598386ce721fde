"""`asl export --format tflite`: a trained TensorFlow model as a TFLite file that takes raw landmarks.

The exported model takes one sequence as the GISLR competition gave it, `inputs` (frames × 543 × 3, NaN where
missing, any number of frames), runs the preprocessing inside (asl.data.tf_preprocess.Preprocess, the same
definition as training) and returns `outputs`, the model's logits (classes,) for that sequence.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import typer

from asl.data.inputs import InputPipeline, checkpoint_pipeline
from asl.errors import AslError, exit_on_user_error
from asl.io import atomic_path


@dataclass(frozen=True)
class Export:
    size: int  # bytes
    builtin_ops: bool  # False: the file needs TensorFlow's own kernels (the flex delegate) to run


def export_tflite(checkpoint: Path, out: Path) -> Export:
    """Convert the TensorFlow model of `checkpoint` (folder or .keras file) to TFLite; returns the file's size and
    whether TFLite's built-in ops sufficed."""
    import tensorflow as tf

    from asl.inference.predictor import find_checkpoint
    from asl.models.tf.base import load_model_from_checkpoint

    path = find_checkpoint(checkpoint)
    if path.suffix != ".keras":
        raise AslError(f"{path}: TFLite export needs a TensorFlow model (.keras); train with framework: tensorflow")
    model, extras = load_model_from_checkpoint(path)
    with tempfile.TemporaryDirectory() as saved:  # through a SavedModel, so the weights are frozen into the file
        raw_landmark_archive(model, checkpoint_pipeline(extras)).write_out(saved, verbose=False)
        flatbuffer, builtin_ops = convert(tf.lite.TFLiteConverter.from_saved_model(saved))
    with atomic_path(out) as temporary:
        temporary.write_bytes(flatbuffer)
    return Export(len(flatbuffer), builtin_ops)


def convert(converter) -> tuple[bytes, bool]:
    """TFLite built-in ops where they suffice (True), else with TensorFlow's own kernels, the flex delegate
    (False, with a warning on stderr: such a file runs only where the flex delegate is linked in)."""
    import tensorflow as tf

    try:
        return converter.convert(), True
    except Exception as error:  # ops without a TFLite kernel: fall back to TensorFlow's own kernels (flex delegate)
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        typer.echo(f"warning: TFLite built-in ops do not suffice ({first_line}); converting with TensorFlow ops "
                   "(flex delegate), which the plain TFLite runtime cannot run", err=True)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
        return converter.convert(), False


def raw_landmark_archive(model, pipeline: InputPipeline):
    """A Keras export archive whose `serving_default(inputs (T, 543, 3))` turns one sequence into model input as
    `pipeline` does (the checkpoint's) and returns {"outputs": logits (classes,)}; the archive tracks the model's
    variables (a plain tf.Module does not)."""
    import keras
    import tensorflow as tf

    from asl.data.tf_preprocess import preprocess_layer

    preprocess = preprocess_layer(pipeline)

    def serve(inputs):
        values, mask = preprocess(inputs)
        logits = model([values[None], mask[None]], training=False)  # a batch of one: (1, classes)
        return {"outputs": logits[0]}

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serving_default", serve, input_signature=[tf.TensorSpec([None, 543, 3], tf.float32,
                                                                                  name="inputs")])
    return archive


@exit_on_user_error
def export(
    format: str = typer.Option("tflite", "--format", help="export format (tflite)"),
    checkpoint: Path = typer.Option(Path("models/best"), help="the train stage's checkpoint folder, or a .keras file"),
    out: Path = typer.Option(Path("models/model.tflite"), help="output file"),
) -> None:
    """Export a trained TensorFlow model to TFLite: raw landmarks of one sequence in, logits out."""
    if format != "tflite":
        raise AslError(f"--format {format!r} is not supported; choose tflite")
    result = export_tflite(checkpoint, out)
    ops = "built-in ops only" if result.builtin_ops else "needs the flex delegate"
    typer.echo(f"wrote {out} ({result.size / 1e6:.2f} MB, {ops}): input `inputs` (frames, 543, 3), output "
               "`outputs` (logits)")
