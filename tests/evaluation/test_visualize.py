"""Animations have one frame per sequence frame; the `asl viz` commands write their figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import yaml
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from asl.cli import app
from asl.errors import AslError
from asl.evaluation.visualize import animate_augmentations, animate_sequences, animate_sign
from asl.landmarks import LIP_CONNECTIONS, N_SELECTED, POSE_CONNECTIONS, HAND_CONNECTIONS, POSE_POINTS
from asl.params import load_params

REPO = Path(__file__).resolve().parents[2]
FRAMES = 9


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> tuple[np.ndarray, pd.DataFrame, Path]:
    """Five sequences (FRAMES, 96, 2) of two signs, a missing left hand in the first, saved like `preprocess` (a
    store of the seed's landmark groups, with params.yaml of it)."""
    rng = np.random.default_rng(0)
    values = rng.uniform(0.2, 0.8, size=(5, FRAMES, N_SELECTED, 2)).astype(np.float32)
    values[0, :, 40:61] = np.nan
    meta = pd.DataFrame({"sequence_id": [str(i) for i in range(5)], "participant_id": ["1", "1", "2", "2", "3"],
                         "sign": ["hello", "hello", "hello", "bye", "bye"], "label": [0, 0, 0, 1, 1],
                         "original_frames": [12, 20, 9, 30, 25], "offset": np.arange(5) * FRAMES, "length": FRAMES})
    folder = tmp_path_factory.mktemp("viz")
    np.save(folder / "landmarks.npy", values.reshape(-1, N_SELECTED, 2))
    meta.to_csv(folder / "meta.csv", index=False)
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["preprocess"].update(frames=FRAMES, landmarks=["lips", "left_hand", "right_hand", "pose"])
    (folder / "params.yaml").write_text(yaml.safe_dump(params))
    return values, meta, folder


def gif_frames(path: Path) -> tuple[int, tuple[int, int]]:
    with Image.open(path) as image:
        assert image.format == "GIF"
        return image.n_frames, image.size


def test_sign_animation_has_a_frame_per_sequence_frame(data, tmp_path):
    values, meta, _ = data
    path = animate_sign(values, meta, "hello", 2, tmp_path / "hello.gif")
    frames, (width, height) = gif_frames(path)
    assert frames == FRAMES and width > height  # two panels side by side
    assert not list(tmp_path.glob(".*tmp*"))


def test_augmentations_show_the_original_and_n_versions(data, tmp_path):
    values, meta, _ = data
    config = load_params(REPO / "params.yaml").augment
    one = gif_frames(animate_sequences([values[0]], ["one"], tmp_path / "one.gif"))
    four = gif_frames(animate_augmentations(values, meta, "bye", 3, config, tmp_path / "aug.gif"))
    assert one[0] == four[0] == FRAMES
    assert four[1][0] > 3 * one[1][0]  # four panels


def test_bad_requests_are_clear(data, tmp_path):
    values, meta, _ = data
    with pytest.raises(AslError, match="sign 'thanks' is not in the data; signs are: bye, hello"):
        animate_sign(values, meta, "thanks", 2, tmp_path / "x.gif")
    with pytest.raises(AslError, match=r"x\.avi: unknown animation format '\.avi'; use \.gif or \.mp4"):
        animate_sign(values, meta, "hello", 2, tmp_path / "x.avi")
    if shutil.which("ffmpeg") is None:
        with pytest.raises(AslError, match="writing MP4 needs ffmpeg, which is not installed"):
            animate_sign(values, meta, "hello", 2, tmp_path / "x.mp4")
    assert not list(tmp_path.iterdir())


def test_connections_are_mediapipes():
    mp = pytest.importorskip("mediapipe")
    assert set(HAND_CONNECTIONS) == set(mp.solutions.hands.HAND_CONNECTIONS)
    assert set(LIP_CONNECTIONS) == set(mp.solutions.face_mesh.FACEMESH_LIPS)
    upper_body = {(a, b) for a, b in mp.solutions.pose.POSE_CONNECTIONS if a in POSE_POINTS and b in POSE_POINTS}
    assert set(POSE_CONNECTIONS) == upper_body


def test_viz_commands_write_their_figures(data, tmp_path):
    _, _, folder = data
    runner = CliRunner()
    inputs = ["--values", str(folder / "landmarks.npy"), "--meta", str(folder / "meta.csv"), "--params",
              str(folder / "params.yaml")]
    result = runner.invoke(app, ["viz", "distribution", "--meta", str(folder / "meta.csv"), "--out",
                                 str(tmp_path / "distribution.png")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "distribution.png").read_bytes()[:4] == b"\x89PNG"
    result = runner.invoke(app, ["viz", "animate", "hello", "-n", "3", "--out", str(tmp_path / "a.gif"), *inputs])
    assert result.exit_code == 0, result.output
    assert gif_frames(tmp_path / "a.gif")[0] == FRAMES
    result = runner.invoke(app, ["viz", "augmentations", "bye", "-n", "2", "--out", str(tmp_path / "b.gif"),
                                 *inputs])
    assert result.exit_code == 0, result.output
    assert gif_frames(tmp_path / "b.gif")[0] == FRAMES
    result = runner.invoke(app, ["viz", "animate", "hello", "--values", str(folder / "absent.npy"),
                                 "--meta", str(folder / "meta.csv"), "--out", str(tmp_path / "c.gif")])
    assert result.exit_code == 1 and "absent.npy: not a readable preprocessed array" in result.output
