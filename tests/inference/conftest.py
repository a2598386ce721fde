"""Fixtures for the video path: a small trained checkpoint, and real videos' landmarks extracted once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FEW_FRAMES = 24  # evenly sampled frames per video: enough to see the hands, fast on a shared CPU


def tiny_params(path: Path, **data) -> Path:
    """The repository's params with a tiny sample and a tiny transformer trained for two epochs."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["sample"].update(participants=4, signs=["hello", "thankyou", "bye"], sequences_per_sign=12, max_frames=30)
    params["train"].update(epochs=2, batch_size=8)
    params["split"].update(train_size=0.5, valid_size=0.25, test_size=0.25)
    params["data"].update(workers=1, **data)
    params["model"] = "TransformerPredictor"  # small and quick: these tests are about the pipeline
    params["models"]["TransformerPredictor"].update(d_model=16, num_heads=2, dim_feedforward=32, num_layers=1)
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def make_params():
    """`tiny_params(path, **data)`: a small params.yaml written to `path`."""
    return tiny_params


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    """The train stage's checkpoint folder of a tiny model trained on a tiny built-in sample."""
    from asl.data.clean import scan_recordings
    from asl.data.extra import read_training_index
    from asl.data.preprocess import open_store, preprocess_dataset
    from asl.data.processed import ProcessedData, split_of_rows
    from asl.data.raw import read_sign_map
    from asl.data.sample import generate_sample
    from asl.data.splits import split_recordings
    from asl.params import load_params
    from asl.training.run import train_model

    work = tmp_path_factory.mktemp("checkpoint")
    params = load_params(tiny_params(work / "params.yaml"))
    generate_sample(work / "raw", params.sample, params.seed)
    coordinates = tuple(params.data.coordinates)
    sign_map = read_sign_map(work / "raw")
    recordings = scan_recordings(read_training_index(work / "raw"), work / "raw", sign_map, coordinates, 1).recordings
    usable = recordings[recordings["problem"] == ""].reset_index(drop=True)
    meta = preprocess_dataset(usable, work / "raw", sign_map, params.preprocess, coordinates, 1, work / "values.npy")
    split = split_of_rows(meta, split_recordings(recordings, params.split, params.clean, params.seed).table)
    signs = [sign for sign, _ in sorted(sign_map.items(), key=lambda item: item[1])]
    data = ProcessedData(open_store(work / "values.npy", meta), meta, signs, split)
    train_model(params, data, work / "best", work / "dvclive", work / "runs")
    return work / "best"


@pytest.fixture(scope="session")
def thkazi(shared_videos):
    """Landmarks of FEW_FRAMES evenly sampled frames of the real video `bad__thkazi.mp4`."""
    from asl.inference.extract import extract_video

    return extract_video(shared_videos / "bad__thkazi.mp4", FEW_FRAMES)


@pytest.fixture(scope="session")
def same_predictions():
    """`same_predictions(files, exported, checkpoint)`: assert that `asl predict landmarks --json` through an
    exported file gives the checkpoint's predictions (signs, probabilities, frames, warnings) on `files`."""
    import json

    import numpy as np
    from typer.testing import CliRunner

    from asl.cli import app

    def predict(files: list[Path], checkpoint: Path) -> list[dict]:
        result = CliRunner().invoke(app, ["predict", "landmarks", *map(str, files), "--checkpoint", str(checkpoint),
                                          "--json", "--top", "3"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output[result.output.index("{"):])["files"]

    def compare(files: list[Path], exported: Path, checkpoint: Path) -> None:
        for record, reference in zip(predict(files, exported), predict(files, checkpoint), strict=True):
            assert [p["sign"] for p in record["predictions"]] == [p["sign"] for p in reference["predictions"]]
            np.testing.assert_allclose([p["probability"] for p in record["predictions"]],
                                       [p["probability"] for p in reference["predictions"]], atol=1e-5)
            assert (record["frames"], record["warnings"]) == (reference["frames"], reference["warnings"])

    return compare
