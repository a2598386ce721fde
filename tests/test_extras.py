"""A missing optional dependency group fails with a message that names the extra to install."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from asl.errors import AslError
from asl.extras import require

REPO = Path(__file__).resolve().parents[1]


def _without(monkeypatch, *modules: str) -> None:
    """Make `modules` unimportable, and forget the asl modules that imported them, as if never installed."""
    for name in list(sys.modules):
        if name.split(".")[0] in modules or name.startswith(("asl.models.tf", "asl.training.tf_trainer")):
            monkeypatch.delitem(sys.modules, name)
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def _names_extra(error: pytest.ExceptionInfo, extra: str) -> None:
    assert f"optional dependency group '{extra}'" in str(error.value)
    assert f"pip install -e '.[{extra}]'" in str(error.value)


def test_require_returns_an_installed_module():
    assert require("json", "dev") is importlib.import_module("json")


def test_an_installed_module_whose_own_import_fails_keeps_its_error(monkeypatch, tmp_path):
    (tmp_path / "asl_probe_installed.py").write_text("import asl_probe_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="asl_probe_missing"):
        require("asl_probe_installed", "dev")


def test_tensorflow_models_and_training_name_the_tensorflow_extra(monkeypatch):
    from asl.models.registry import model_names

    _without(monkeypatch, "tensorflow", "keras")
    with pytest.raises(AslError) as error:
        model_names("tensorflow")
    _names_extra(error, "tensorflow")
    with pytest.raises(AslError) as error:
        importlib.import_module("asl.training.tf_trainer")
    _names_extra(error, "tensorflow")


def test_tflite_export_names_the_tensorflow_extra(monkeypatch, tmp_path):
    from asl.inference.export import export_tflite

    _without(monkeypatch, "tensorflow", "keras")
    with pytest.raises(AslError) as error:
        export_tflite(tmp_path / "checkpoint", tmp_path / "model.tflite")
    _names_extra(error, "tensorflow")


def test_videos_and_extraction_name_the_video_extra(monkeypatch, tmp_path):
    from asl.inference.extract import check_model_complexity
    from asl.inference.live import open_source
    from asl.inference.video import open_video

    _without(monkeypatch, "cv2", "mediapipe")
    video = tmp_path / "sign.mp4"
    video.write_bytes(b"")
    for call in (lambda: open_video(video), lambda: open_source(0), lambda: check_model_complexity(1)):
        with pytest.raises(AslError) as error:
            call()
        _names_extra(error, "video")


def test_tune_names_the_tune_extra(monkeypatch, tmp_path):
    from asl.params import load_params
    from asl.tune.search import DataPaths, run_search

    _without(monkeypatch, "ray", "optuna", "mlflow")
    data = DataPaths(*(tmp_path / name for name in ("values", "meta", "sign_map", "split")))
    with pytest.raises(AslError) as error:
        run_search(load_params(REPO / "params.yaml"), data, 1, tmp_path / "ray", str(tmp_path / "mlruns"))
    _names_extra(error, "tune")
