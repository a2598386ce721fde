"""`asl export --format onnx` and predicting through the file: the PyTorch model's logits on real recordings."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")

from typer.testing import CliRunner  # noqa: E402

from asl.cli import app  # noqa: E402
from asl.data.inputs import InputPipeline, pad_batch  # noqa: E402
from asl.data.preprocess import to_model_input  # noqa: E402
from asl.data.raw import read_landmarks  # noqa: E402
from asl.models.config import InputShape  # noqa: E402
from asl.models.registry import get_model_entry, model_names  # noqa: E402
from asl.params import load_params  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SMALL = {"d_model": 32, "num_heads": 4, "dim_feedforward": 64, "num_layers": 1, "expansion_factor": 2}
VARIABLE_FRAMES = [name for name in model_names("pytorch")
                   if get_model_entry("pytorch", name).model_class.input_transform == "variable_frames"]
NO_VARIABLE_FRAMES = pytest.param("variable_frames", marks=pytest.mark.skip(
    reason="no registered PyTorch model reads variable_frames input yet: no variable-length ONNX export to test"))


def save_checkpoint(name: str, folder: Path):
    """A small untrained checkpoint of a registered PyTorch model, as the train stage writes it."""
    params = load_params(REPO / "params.yaml")
    params = dataclasses.replace(params, model=name)
    pipeline = InputPipeline.of(params)
    settings = {key: SMALL.get(key, value) for key, value in params.models[name].items()}
    entry = get_model_entry("pytorch", name)
    torch.manual_seed(0)
    shape = InputShape(pipeline.frames, pipeline.landmarks, len(params.data.coordinates))
    model = entry.model_class(entry.build_config(settings), shape, 250).eval()
    model.save_checkpoint(folder / "model.pt", {"signs": [f"sign{i}" for i in range(250)], "epoch": 1,
                                                "params": dataclasses.asdict(params), "inputs": pipeline.record()})
    return model, pipeline


def export(checkpoint: Path, out: Path) -> None:
    result = CliRunner().invoke(app, ["export", "--format", "onnx", "--checkpoint", str(checkpoint),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output and "standard ONNX ops, opset" in result.output


@pytest.fixture(scope="module", params=["TransformerPredictor", "LSTMPredictor",
                                        *(VARIABLE_FRAMES or [NO_VARIABLE_FRAMES])])
def exported(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp(request.param)
    model, pipeline = save_checkpoint(request.param, folder)
    export(folder, folder / "model.onnx")
    return model, pipeline, folder


def real_inputs(gislr_sample: Path, pipeline: InputPipeline) -> list[np.ndarray]:
    """The pipeline's model inputs (frames, L, C) with NaN of every eighth real recording."""
    channels = [("x", "y", "z").index(name) for name in pipeline.layout.coordinates]
    files = sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[::8]
    return [pipeline.from_raw(read_landmarks(path, ("x", "y", "z")).values[..., channels]) for path in files]


def test_onnx_logits_match_the_pytorch_model_on_real_files(exported, gislr_sample):
    import onnxruntime

    model, pipeline, folder = exported
    session = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    inputs = real_inputs(gislr_sample, pipeline)
    batches = [sequence[None] for sequence in inputs] + [pad_batch(inputs)]  # one by one, then all at once padded
    differences = []
    for batch in batches:
        values, mask = to_model_input(batch)
        logits = session.run(["logits"], {"values": values, "mask": mask})[0]
        with torch.no_grad():
            expected = model(torch.from_numpy(values), torch.from_numpy(mask)).numpy()
        assert logits.shape == expected.shape == (len(batch), 250)
        differences.append(np.abs(logits - expected).max())
    print(f"{type(model).__name__}: ONNX Runtime vs PyTorch on {len(inputs)} real files: max |difference| "
          f"{max(differences):.2e}")
    assert len(inputs) > 30 and max(differences) <= 1e-4


def test_onnx_metadata_rebuilds_the_pipeline_and_names_the_signs(exported):
    import onnx

    model, pipeline, folder = exported
    properties = {p.key: json.loads(p.value) for p in onnx.load(folder / "model.onnx").metadata_props}
    assert properties["asl.model"] == type(model).__name__
    assert properties["asl.signs"] == [f"sign{i}" for i in range(250)]
    assert InputPipeline.from_record(properties["asl.inputs"]) == pipeline
    assert properties["asl.min_frames"] == load_params(REPO / "params.yaml").clean.min_frames


def test_predict_through_the_onnx_file_as_through_the_checkpoint(exported, gislr_sample, same_predictions):
    model, pipeline, folder = exported
    same_predictions(sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[::40], folder / "model.onnx",
                     folder)


def test_the_onnx_recognizer_takes_a_thread_count_and_the_models_window(exported, gislr_sample):
    from asl.inference.recognize import load_recognizer

    model, pipeline, folder = exported
    recognizer = load_recognizer(folder / "model.onnx")
    recognizer.set_threads(1)  # what the live loop does
    assert recognizer.frames == pipeline.frames and recognizer.pipeline == pipeline
    raw = read_landmarks(sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[0], ("x", "y", "z"))
    probabilities = recognizer.probabilities(recognizer.preprocess(raw.values))
    assert probabilities.shape == (250,) and np.isclose(probabilities.sum(), 1, atol=1e-5)


def test_onnx_export_refuses_a_tensorflow_checkpoint(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"x")
    result = CliRunner().invoke(app, ["export", "--format", "onnx", "--checkpoint", str(tmp_path / "model.keras"),
                                      "--out", str(tmp_path / "m.onnx")])
    assert result.exit_code == 1
    assert f"error: {tmp_path / 'model.keras'}: ONNX export needs a PyTorch model" in result.output
    assert not (tmp_path / "m.onnx").exists()


def test_a_graph_that_does_not_reproduce_the_model_is_refused(tmp_path):
    from asl.errors import AslError
    from asl.inference.export import check_onnx_graph, onnx_graph

    model, pipeline = save_checkpoint("TransformerPredictor", tmp_path)
    graph = onnx_graph(model, variable_frames=False)
    check_onnx_graph(graph, model, False, tmp_path / "model.pt")  # the graph of the model itself passes
    with torch.no_grad():
        model.classifier.head.bias.add_(1e-3)  # every logit moves by 1e-3, ten times the tolerance
    with pytest.raises(AslError, match="differs from the model's logits by up to .*: this model cannot be exported"):
        check_onnx_graph(graph, model, False, tmp_path / "model.pt")
