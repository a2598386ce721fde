"""`asl export`: a trained model as one file that predicts without this repository's framework code.

- `--format tflite` (TensorFlow models): the file takes one sequence as the GISLR competition gave it, `inputs`
  (frames × 543 × 3, NaN where missing, any number of frames), runs the preprocessing inside
  (asl.data.tf_preprocess.Preprocess, the same definition as training) and returns `outputs`, the model's logits
  (classes,) for that sequence.
- `--format onnx` (PyTorch models): the file takes the input pipeline's output, `values` (batch, frames, L, C)
  float32 with missing points as 0 and `mask` (batch, frames) bool, True where a frame is observed
  (asl.data.preprocess.to_model_input), and returns `logits` (batch, classes). Batch is free; frames is free up to
  the model's `max_frames` for a variable-length model, fixed for a fixed-frames one.

Both files carry what prediction needs (`prediction_metadata`: the sign of each output, the input pipeline's
record, the training's `clean.min_frames`): in ONNX's `metadata_props`, each under `asl.<key>` as JSON; in the
TFLite flatbuffer's metadata as one JSON document named `asl`. `asl predict ... --checkpoint model.onnx|.tflite`
reads them (asl.inference.exported).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl.data.inputs import InputPipeline, checkpoint_pipeline
from asl.errors import AslError, warn
from asl.extras import require
from asl.io import atomic_path

#: The name of the TFLite metadata entry, and the prefix of the ONNX metadata_props keys, that `prediction_metadata`
#: is stored under.
METADATA_NAME = "asl"


def prediction_metadata(extras: dict, model: str) -> dict:
    """What predicting through an exported file needs from the checkpoint's extras: the model's name, the sign of
    each output, the input pipeline's record (asl.data.inputs.InputPipeline.record) and the training's
    `clean.min_frames` (the recognizer's warning about thin input; None when not recorded)."""
    params = extras.get("params") or {}
    return {"model": model, "signs": [str(sign) for sign in extras["signs"]],
            "inputs": checkpoint_pipeline(extras).record(),
            "min_frames": (params.get("clean") or {}).get("min_frames")}


@dataclass(frozen=True)
class Export:
    size: int  # bytes
    ops: str  # which operators the file needs, in its format's terms ("needs the flex delegate": TensorFlow's kernels)


def export_tflite(checkpoint: Path, out: Path) -> Export:
    """Convert the TensorFlow model of `checkpoint` (folder or .keras file) to TFLite; returns the file's size and
    whether TFLite's built-in ops sufficed."""
    tf = require("tensorflow", "tensorflow")

    from asl.checkpoint import find_checkpoint
    from asl.models.tf.base import load_model_from_checkpoint

    path = find_checkpoint(checkpoint)
    if path.suffix != ".keras":
        raise AslError(f"{path}: TFLite export needs a TensorFlow model (.keras); for a PyTorch model use --format "
                       "onnx, or train with framework: tensorflow")
    model, extras = load_model_from_checkpoint(path)
    with tempfile.TemporaryDirectory() as saved:  # through a SavedModel, so the weights are frozen into the file
        raw_landmark_archive(model, checkpoint_pipeline(extras)).write_out(saved, verbose=False)
        flatbuffer, builtin_ops = convert(tf.lite.TFLiteConverter.from_saved_model(saved))
    flatbuffer = with_tflite_metadata(flatbuffer, prediction_metadata(extras, type(model).__name__))
    with atomic_path(out) as temporary:
        temporary.write_bytes(flatbuffer)
    return Export(len(flatbuffer), "built-in ops only" if builtin_ops else "needs the flex delegate")


def convert(converter) -> tuple[bytes, bool]:
    """TFLite built-in ops where they suffice (True), else with TensorFlow's own kernels, the flex delegate
    (False, with a warning on stderr: such a file runs only where the flex delegate is linked in)."""
    import tensorflow as tf

    try:
        return converter.convert(), True
    except Exception as error:  # ops without a TFLite kernel: fall back to TensorFlow's own kernels (flex delegate)
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        warn(f"TFLite built-in ops do not suffice ({first_line}); converting with TensorFlow ops (flex delegate), "
             "which the plain TFLite runtime cannot run")
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
        return converter.convert(), False


def with_tflite_metadata(flatbuffer: bytes, metadata: dict) -> bytes:
    """The TFLite flatbuffer with `metadata` as a JSON entry `METADATA_NAME` of its metadata table (the place the
    TFLite schema keeps for descriptive data; interpreters ignore it)."""
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(metadata).encode(), dtype=np.uint8)
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_NAME, len(model.buffers) - 1
    model.metadata = [*(model.metadata or []), entry]
    return flatbuffer_utils.convert_object_to_bytearray(model)


def export_onnx(checkpoint: Path, out: Path) -> Export:
    """Convert the PyTorch model of `checkpoint` (folder or .pt file) to ONNX, checked against the model on
    ONNX Runtime (`check_onnx_graph`), with `prediction_metadata`; returns its size and opset (standard ONNX ops)."""
    import onnx

    from asl.checkpoint import find_checkpoint
    from asl.models.torch.base import load_model_from_checkpoint

    path = find_checkpoint(checkpoint)
    if path.suffix == ".keras":
        raise AslError(f"{path}: ONNX export needs a PyTorch model (.pt); for a TensorFlow model use --format tflite")
    model, extras = load_model_from_checkpoint(path, "cpu")
    variable_frames = checkpoint_pipeline(extras).transform.variable_length
    graph = onnx_graph(model, variable_frames)
    check_onnx_graph(graph, model, variable_frames, path)
    metadata = prediction_metadata(extras, type(model).__name__)
    onnx.helper.set_model_props(graph, {f"{METADATA_NAME}.{key}": json.dumps(value) for key, value in metadata.items()})
    serialized = graph.SerializeToString()
    with atomic_path(out) as temporary:
        temporary.write_bytes(serialized)
    opset = next(entry.version for entry in graph.opset_import if entry.domain in ("", "ai.onnx"))
    return Export(len(serialized), f"standard ONNX ops, opset {opset}")


def onnx_graph(model, variable_frames: bool):
    """The ONNX graph (onnx.ModelProto, weights inside) of a PyTorch model's `forward(values, mask)`, by the
    dynamo exporter; batch free, frames free up to the model's frames when `variable_frames`."""
    import contextlib
    import io
    import warnings

    import torch

    shape = model.input_shape
    batch = torch.export.Dim("batch", min=1)
    dims = {0: batch, 1: torch.export.Dim("frames", min=1, max=shape.frames)} if variable_frames else {0: batch}
    values = torch.zeros(2, shape.frames, shape.landmarks, shape.coordinates)
    mask = torch.ones(2, shape.frames, dtype=torch.bool)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # the exporter's progress lines
        warnings.simplefilter("ignore")
        try:
            program = torch.onnx.export(model.eval(), (values, mask), dynamo=True, input_names=["values", "mask"],
                                        output_names=["logits"], dynamic_shapes=(dims, dims), external_data=False,
                                        optimize=True, verbose=False)
        except Exception as error:  # the exporter raises many types for an operation it cannot convert
            raise AslError(f"{type(model).__name__} cannot be exported to ONNX ({error})") from None
    return program.model_proto


def check_onnx_graph(graph, model, variable_frames: bool, path: Path, seed: int = 0) -> None:
    """Fail unless ONNX Runtime's logits of `graph` match the model's (max |difference| ≤ 1e-4, relative to the
    logits' scale when above 1) on random sequences with padding: batches of one and three, and fewer frames (down
    to one) for a variable-length model. Catches a dimension the exporter fixed although the model leaves it free."""
    import onnxruntime
    import torch

    session = onnxruntime.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    shape = model.input_shape
    generator = torch.Generator().manual_seed(seed)
    cases = [(1, shape.frames), (3, shape.frames)] + ([(3, max(1, shape.frames // 2)), (1, 1)] if variable_frames
                                                      else [])
    for batch, frames in cases:
        observed = torch.linspace(frames, 1, batch).round()  # frames observed per row: all of them down to one
        mask = torch.arange(frames).expand(batch, -1) < observed[:, None]
        values = torch.randn(batch, frames, shape.landmarks, shape.coordinates, generator=generator)
        values = values * mask[..., None, None]
        with torch.no_grad():
            expected = model(values, mask).numpy()
        where = f"{path}: the ONNX graph of {type(model).__name__} on a batch of {batch} × {frames} frames"
        try:
            logits = session.run(["logits"], {"values": values.numpy(), "mask": mask.numpy()})[0]
        except Exception as error:  # onnxruntime's errors are of its own types
            raise AslError(f"{where} fails ({str(error).splitlines()[0]}): this model cannot be exported to "
                           "ONNX") from None
        difference = float(np.abs(logits - expected).max())
        if not difference <= 1e-4 * max(1.0, float(np.abs(expected).max())):
            raise AslError(f"{where} differs from the model's logits by up to {difference:.2e}: this model cannot "
                           "be exported to ONNX")


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


#: Per format: the exporter, and what the written file takes and returns.
FORMATS = {
    "tflite": (export_tflite, "input `inputs` (frames, 543, 3) raw with NaN, output `outputs` (logits)"),
    "onnx": (export_onnx, "inputs `values` (batch, frames, L, C) with missing as 0 and `mask` (batch, frames), "
                          "output `logits`"),
}
