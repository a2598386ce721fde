"""Predicting through an exported file (`asl export`): ONNX on ONNX Runtime, TFLite on the TFLite interpreter.

Neither needs the training framework's model code: the sign list and the input pipeline come from the file's own
metadata (asl.inference.export.prediction_metadata). `load_exported` picks the format by the file's suffix.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.special import softmax

from asl.data.inputs import model_batch
from asl.errors import AslError
from asl.extras import require
from asl.inference.export import METADATA_NAME
from asl.inference.recognize import SignRecognizer

#: What prediction reads from an exported file's metadata.
REQUIRED_METADATA = ("signs", "inputs")


def checked_metadata(metadata: dict, path: Path, format: str) -> dict:
    """The file's prediction metadata, or an error naming the file when it lacks what prediction needs."""
    missing = [key for key in REQUIRED_METADATA if key not in metadata]
    if missing:
        raise AslError(f"{path}: the {format} file has no {', '.join(missing)} in its metadata (exported before "
                       f"they were recorded, or by another tool): export it again with `asl export --format {format}`")
    return metadata


class OnnxPredictor:
    """An ONNX export of a PyTorch model on ONNX Runtime (CPU), answering as `asl.inference.predictor.Predictor`
    does: model inputs (N, frames, L, C) with NaN → probabilities."""

    framework = "onnx"

    def __init__(self, path: Path, threads: int = 0) -> None:
        self.path = Path(path)
        self._session = self._open(threads)
        properties = self._session.get_modelmeta().custom_metadata_map
        prefix = f"{METADATA_NAME}."
        self.extras = checked_metadata({key[len(prefix):]: json.loads(value) for key, value in properties.items()
                                        if key.startswith(prefix)}, self.path, "onnx")
        self.signs: list[str] = self.extras["signs"]

    def _open(self, threads: int):
        """An ONNX Runtime session with `threads` intra-op threads (0: ONNX Runtime's default)."""
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        try:
            return onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # onnxruntime's errors are of its own types
            raise AslError(f"{self.path}: not a readable ONNX model ({str(error).splitlines()[0]})") from None

    def set_threads(self, threads: int) -> None:
        self._session = self._open(threads)

    def predict_probabilities(self, values, rows: np.ndarray | None = None, batch_size: int = 256) -> np.ndarray:
        """Probabilities (len(rows), classes) for model inputs `values[rows]` (all rows by default): an array
        (N, frames, L, C) with NaN or `asl.data.inputs.StoreInputs`."""
        rows = np.arange(len(values)) if rows is None else np.asarray(rows)
        expected = self._session.get_inputs()[0].shape[1:]  # frames (a name where free), L, C
        if any(isinstance(size, int) and size != actual for size, actual in zip(expected, values.shape[1:])):
            raise AslError(f"the data's shape (frames, landmarks, coordinates) {tuple(values.shape[1:])} does not "
                           f"match the exported model's {tuple(expected)}")
        batches = [np.zeros((0, len(self.signs)), np.float32)]
        for start in range(0, len(rows), batch_size):
            x, mask = model_batch(values, rows[start:start + batch_size])
            logits = self._session.run(["logits"], {"values": x.astype(np.float32, copy=False), "mask": mask})[0]
            batches.append(softmax(logits, axis=-1))
        return np.concatenate(batches)


class TflitePredictor:
    """A TFLite export of a TensorFlow model on the TFLite interpreter: raw landmarks (T, 543, 3) with NaN of one
    sequence → probabilities; the input pipeline is inside the graph."""

    framework = "tflite"

    def __init__(self, path: Path, threads: int | None = None) -> None:
        self.path = Path(path)
        self.extras = checked_metadata(tflite_metadata(self.path), self.path, "tflite")
        self.signs: list[str] = self.extras["signs"]
        self._run = self._open(threads)

    def _open(self, threads: int | None):
        import warnings

        tf = require("tensorflow", "tensorflow")

        with warnings.catch_warnings():  # its notice that LiteRT (not installed; TensorFlow 2.19 is pinned) replaces it
            warnings.simplefilter("ignore", UserWarning)
            interpreter = tf.lite.Interpreter(model_path=str(self.path), num_threads=threads)
        return interpreter.get_signature_runner()

    def set_threads(self, threads: int) -> None:
        self._run = self._open(threads)

    def raw_probabilities(self, raw: np.ndarray) -> np.ndarray:
        """Class probabilities (classes,) of one recording's raw landmarks (T, 543, 3)."""
        return softmax(self._run(inputs=np.asarray(raw, dtype=np.float32))["outputs"])


def tflite_metadata(path: Path) -> dict:
    """The JSON document of a TFLite file's `METADATA_NAME` metadata entry ({} when it has none)."""
    from tensorflow.lite.python import schema_py_generated as schema

    try:
        model = schema.Model.GetRootAsModel(bytearray(path.read_bytes()), 0)
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            if entry.Name().decode() == METADATA_NAME:
                return json.loads(model.Buffers(entry.Buffer()).DataAsNumpy().tobytes())
    except (OSError, ValueError, IndexError, AttributeError) as error:
        raise AslError(f"{path}: not a readable TFLite model ({error})") from None
    return {}


class TfliteRecognizer(SignRecognizer):
    """A recognizer on a TFLite export: the graph does the preprocessing, so `preprocess` only checks that a
    recording keeps a frame (as the training pipeline would) and passes the raw landmarks on."""

    def preprocess(self, raw: np.ndarray) -> np.ndarray:
        self.pipeline.stored(raw[..., self._columns], require_usable=True)
        return np.asarray(raw, dtype=np.float32)

    def probabilities(self, values: np.ndarray) -> np.ndarray:
        return self.predictor.raw_probabilities(values)


#: Recognizers of exported files, by suffix: the one place that dispatches on it.
EXPORTED_RECOGNIZERS = {
    ".onnx": lambda path: SignRecognizer(OnnxPredictor(path)),
    ".tflite": lambda path: TfliteRecognizer(TflitePredictor(path)),
}


def load_exported(path: Path) -> SignRecognizer:
    """The recognizer of an exported .onnx or .tflite file."""
    path = Path(path)
    if not path.is_file():
        raise AslError(f"{path}: exported model not found")
    return EXPORTED_RECOGNIZERS[path.suffix](path)
