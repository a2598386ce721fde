"""`asl export --format tflite`: raw landmarks of one sequence in, the Keras model's logits out."""

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from typer.testing import CliRunner  # noqa: E402

from asl.cli import app  # noqa: E402
from asl.data.inputs import InputPipeline, checkpoint_pipeline  # noqa: E402
from asl.data.preprocess import to_model_input  # noqa: E402
from asl.data.raw import read_landmarks  # noqa: E402
from asl.models.config import InputShape  # noqa: E402
from asl.models.registry import get_model_entry  # noqa: E402
from asl.params import load_params  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", params=["none", "standardize"])
def exported(tmp_path_factory, request):
    """A small TransformerPredictor checkpoint (as the train stage writes it, trained on inputs normalised by
    `preprocess.normalization`) and its TFLite export."""
    folder = tmp_path_factory.mktemp("export")
    params = load_params(REPO / "params.yaml")
    params = dataclasses.replace(params, preprocess=dataclasses.replace(params.preprocess, normalization=request.param))
    settings = dict(params.models["TransformerPredictor"], d_model=32, num_heads=4, dim_feedforward=64, num_layers=2)
    entry = get_model_entry("tensorflow", "TransformerPredictor")
    tf.keras.utils.set_random_seed(3)
    shape = InputShape(params.preprocess.frames, 96, len(params.data.coordinates))
    model = entry.model_class(entry.build_config(settings), shape, 250)
    model.save_checkpoint(folder / "best" / "model.keras", {"signs": [str(i) for i in range(250)],
                                                            "params": dataclasses.asdict(params)})
    result = CliRunner().invoke(app, ["export", "--format", "tflite", "--checkpoint", str(folder / "best"),
                                      "--out", str(folder / "model.tflite")])
    assert result.exit_code == 0, result.output
    return model, params, folder / "model.tflite"


def test_tflite_outputs_match_the_keras_model_on_real_files(exported, gislr_sample):
    model, params, path = exported
    interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=1)
    run = interpreter.get_signature_runner()
    channels = [("x", "y", "z").index(name) for name in params.data.coordinates]
    pipeline = checkpoint_pipeline({"params": dataclasses.asdict(params)})
    differences, seconds = [], []
    for file in sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[::8]:
        raw = read_landmarks(file, ("x", "y", "z")).values.astype(np.float32)  # (T, 543, 3), NaN missing
        start = time.perf_counter()
        outputs = run(inputs=raw)["outputs"]
        seconds.append(time.perf_counter() - start)
        x, mask = to_model_input(pipeline.from_raw(raw[..., channels]))
        expected = model([x[None], mask[None]], training=False).numpy()[0]
        differences.append(np.abs(outputs - expected).max())
        assert outputs.shape == (250,) and outputs.argmax() == expected.argmax()
    print(f"TFLite vs Keras on {len(differences)} real files: max abs difference {max(differences):.2e}, "
          f"median latency {1000 * np.median(seconds):.2f} ms (1 thread)")
    assert len(differences) > 30 and max(differences) < 1e-4


@pytest.fixture(scope="module", params=["none", "standardize"])
def exported_conv1d(tmp_path_factory, request):
    """A small Conv1DTransformer (variable_frames input), a few steps trained so its BatchNorm statistics are its
    own, as the train stage saves it, and its TFLite export through the command."""
    from asl.training.tf_trainer import make_train_step

    folder = tmp_path_factory.mktemp("export_conv1d")
    params = load_params(REPO / "params.yaml")
    params = dataclasses.replace(params, framework="tensorflow", model="Conv1DTransformer",
                                 preprocess=dataclasses.replace(params.preprocess, normalization=request.param))
    settings = dict(params.models["Conv1DTransformer"], dim=32, blocks=1, conv_per_block=2, kernel_size=5,
                    num_heads=2)
    params = dataclasses.replace(params, models={**params.models, "Conv1DTransformer": settings})
    pipeline = InputPipeline.of(params)
    entry = get_model_entry("tensorflow", "Conv1DTransformer")
    tf.keras.utils.set_random_seed(3)
    model = entry.model_class(entry.build_config(settings), InputShape(pipeline.frames, pipeline.landmarks,
                                                                      len(params.data.coordinates)), 250)
    rng = np.random.default_rng(0)
    step = make_train_step(model, model.configure_optimizers(steps_per_epoch=3))
    for _ in range(3):
        step(rng.normal(size=(4, 20, pipeline.landmarks, 2)).astype(np.float32), np.ones((4, 20), bool),
             rng.integers(0, 250, size=4))
    model.save_checkpoint(folder / "best" / "model.keras", {"signs": [str(i) for i in range(250)],
                                                            "params": dataclasses.asdict(params),
                                                            "inputs": pipeline.record()})
    result = CliRunner().invoke(app, ["export", "--format", "tflite", "--checkpoint", str(folder / "best"),
                                      "--out", str(folder / "model.tflite")])
    assert result.exit_code == 0, result.output
    assert "built-in ops only" in result.output and "warning" not in result.output  # no flex delegate
    return model, pipeline, folder / "model.tflite"


def test_conv1d_transformer_tflite_matches_keras_on_real_files(exported_conv1d, gislr_sample):
    model, pipeline, path = exported_conv1d
    run = tf.lite.Interpreter(model_path=str(path), num_threads=1).get_signature_runner()
    channels = [("x", "y", "z").index(name) for name in pipeline.layout.coordinates]
    differences = []
    for file in sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[::8]:
        raw = read_landmarks(file, ("x", "y", "z")).values.astype(np.float32)  # (T, 543, 3), NaN missing
        outputs = run(inputs=raw)["outputs"]
        x, mask = to_model_input(pipeline.from_raw(raw[..., channels]))
        expected = model([x[None], mask[None]], training=False).numpy()[0]
        differences.append(np.abs(outputs - expected).max())
        assert outputs.shape == (250,)
    print(f"Conv1DTransformer TFLite vs Keras on {len(differences)} real files: max abs difference "
          f"{max(differences):.2e}")
    assert len(differences) > 30 and max(differences) <= 1e-4


def test_export_refuses_a_pytorch_checkpoint_and_unknown_formats(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"x")
    result = CliRunner().invoke(app, ["export", "--checkpoint", str(tmp_path), "--out", str(tmp_path / "m.tflite")])
    assert result.exit_code == 1 and "TFLite export needs a TensorFlow model (.keras); for a PyTorch model use " \
        "--format onnx" in result.output
    result = CliRunner().invoke(app, ["export", "--format", "coreml", "--checkpoint", str(tmp_path)])
    assert result.exit_code == 1 and "--format 'coreml' is not supported; choose tflite or onnx" in result.output
    assert not (tmp_path / "m.tflite").exists()


def test_the_tflite_file_names_the_signs_and_the_input_pipeline(exported):
    from asl.inference.exported import tflite_metadata

    model, params, path = exported
    metadata = tflite_metadata(path)
    assert metadata["signs"] == [str(i) for i in range(250)] and metadata["model"] == "TransformerPredictor"
    assert metadata["inputs"] == checkpoint_pipeline({"params": dataclasses.asdict(params)}).record()
    assert metadata["min_frames"] == params.clean.min_frames


def test_predict_through_the_tflite_file_as_through_the_checkpoint(exported, gislr_sample, same_predictions):
    from asl.inference.recognize import load_recognizer

    model, params, path = exported
    files = sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))
    same_predictions(files[::40], path, path.parent / "best")
    recognizer = load_recognizer(path)
    recognizer.set_threads(1)  # what the live loop does
    assert recognizer.frames == params.preprocess.frames  # the live window
    raw = read_landmarks(files[0], ("x", "y", "z")).values
    assert np.isclose(recognizer.probabilities(recognizer.preprocess(raw)).sum(), 1, atol=1e-5)


def test_a_tflite_file_without_the_metadata_is_refused_clearly(exported, tmp_path):
    from tensorflow.lite.tools import flatbuffer_utils

    flatbuffer = flatbuffer_utils.read_model(str(exported[2]))
    flatbuffer.metadata = [entry for entry in flatbuffer.metadata if entry.name != b"asl"]
    flatbuffer_utils.write_model(flatbuffer, str(tmp_path / "bare.tflite"))
    result = CliRunner().invoke(app, ["predict", "landmarks", str(tmp_path / "x.parquet"), "--checkpoint",
                                      str(tmp_path / "bare.tflite")])
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'bare.tflite'}: the tflite file has no signs, inputs in its metadata" in result.output


def test_the_recognizer_predicts_through_a_compiled_graph_as_keras_does(exported, gislr_sample):
    from asl.inference.recognize import load_recognizer
    from asl.models.tf.base import CompiledModel

    model, params, path = exported
    recognizer = load_recognizer(path.parent / "best")
    assert isinstance(recognizer.predictor.frozen, CompiledModel)
    raw = read_landmarks(sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[0], ("x", "y", "z"))
    values = recognizer.preprocess(raw.values)  # video and camera: the training preprocessing, normalised alike
    channels = [("x", "y", "z").index(name) for name in params.data.coordinates]
    np.testing.assert_array_equal(values, recognizer.pipeline.from_raw(raw.values[..., channels]))
    assert recognizer.pipeline == checkpoint_pipeline({"params": dataclasses.asdict(params)})
    if params.preprocess.normalization == "standardize":
        np.testing.assert_allclose(np.nanmean(values, axis=(0, 1)), 0, atol=1e-5)
    x, mask = to_model_input(values)
    expected = tf.nn.softmax(model([x[None], mask[None]], training=False)).numpy()[0]
    np.testing.assert_allclose(recognizer.probabilities(values), expected, rtol=1e-4, atol=1e-6)


def test_a_conversion_needing_tensorflow_ops_falls_back_with_a_warning(capsys):
    from asl.inference.export import convert

    class Converter:  # built-in ops fail, as for an op TFLite lacks; the flex delegate's ops then succeed
        target_spec = type("TargetSpec", (), {"supported_ops": None})()

        def convert(self):
            if self.target_spec.supported_ops is None:
                raise RuntimeError("'tf.Foo' op is neither a custom op nor a flex op\nmore detail")
            return b"flatbuffer"

    assert convert(Converter()) == (b"flatbuffer", False)
    warning = capsys.readouterr().err
    assert warning.startswith("warning: TFLite built-in ops do not suffice ('tf.Foo' op is neither a custom op")
    assert "flex delegate" in warning and "more detail" not in warning
