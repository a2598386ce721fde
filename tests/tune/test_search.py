"""`asl tune` end to end: a two-trial, one-epoch search on a tiny built-in sample with a local Ray instance."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from asl.params import load_params

REPO = Path(__file__).resolve().parents[2]
ASL = [sys.executable, "-c", "from asl.cli import app; app()"]


def tiny_params(folder: Path) -> Path:
    """The repository's params, with a tiny sample, a tiny transformer, one epoch and a small search space."""
    params = yaml.load((REPO / "params.yaml").read_text(), Loader=yaml.SafeLoader)
    params["sample"].update(participants=5, signs=["hello", "thankyou", "bye"], sequences_per_sign=20, max_frames=30)
    params["train"].update(epochs=1, batch_size=8)
    params["models"]["TransformerPredictor"].update(d_model=16, num_heads=2, dim_feedforward=32, num_layers=1)
    space = params["tune"]["space"]["TransformerPredictor"]
    space["models.TransformerPredictor.num_layers"] = {"type": "randint", "low": 1, "high": 3}
    space["models.TransformerPredictor.dim_feedforward"] = {"type": "choice", "values": [16, 32]}
    params["model"] = "TransformerPredictor"
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def run(*arguments) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in arguments], capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> tuple[Path, Path]:
    """sample → clean → preprocess → split with the stage scripts; returns (params file, folder of the outputs)."""
    folder = tmp_path_factory.mktemp("tune")
    params = tiny_params(folder)
    stages = [
        ("sample", "--out", folder / "raw"),
        ("clean", "--raw-dir", folder / "raw", "--recordings", folder / "recordings.csv",
         "--sign-stats", folder / "stats.csv", "--landmark-means", folder / "means.csv"),
        ("preprocess", "--raw-dir", folder / "raw", "--recordings", folder / "recordings.csv", "--values",
         folder / "landmarks.npy", "--meta", folder / "meta.csv", "--sign-map", folder / "sign_map.json"),
        ("split", "--recordings", folder / "recordings.csv", "--split", folder / "split.csv", "--report",
         folder / "clean.json"),
    ]
    for stage, *arguments in stages:
        result = run(sys.executable, REPO / "stages" / f"{stage}.py", "--params", params, *arguments)
        assert result.returncode == 0, f"{stage} failed:\n{result.stderr[-3000:]}"
    return params, folder


def test_two_trial_search_logs_to_mlflow_and_its_best_params_apply(processed, tmp_path):
    import mlflow

    params, data = processed
    space = load_params(params).tune.space["TransformerPredictor"]
    result = run(*ASL, "tune", "--trials", 2, "--params", params, "--values", data / "landmarks.npy",
                 "--meta", data / "meta.csv", "--sign-map", data / "sign_map.json", "--split", data / "split.csv",
                 "--tracking-uri", tmp_path / "mlruns", "--out", tmp_path / "best.yaml", "--storage", tmp_path / "ray")
    assert result.returncode == 0, result.stderr[-5000:]
    assert (tmp_path / "mlruns" / "mlflow.db").is_file()

    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["asl-tune"])
    assert len(runs) == 2 and set(runs["status"]) == {"FINISHED"}
    for key in space:
        assert runs[f"params.{key}"].notna().all()
    assert set(runs["params.model"]) == {"TransformerPredictor"}
    assert runs["metrics.valid_accuracy"].between(0, 1).all()
    client = mlflow.MlflowClient()
    for run_id in runs["run_id"]:
        history = client.get_metric_history(run_id, "valid_accuracy")
        assert [metric.step for metric in history] == [0]  # one epoch, one value
        assert [a.path for a in client.list_artifacts(run_id, "checkpoint")] == ["checkpoint/model.pt"]

    best = yaml.safe_load((tmp_path / "best.yaml").read_text())
    assert set(best) == set(space)
    assert f"valid accuracy {runs['metrics.valid_accuracy'].max():.4f}" in (tmp_path / "best.yaml").read_text()
    command = next(line for line in result.stdout.splitlines() if line.startswith("dvc exp run -S"))
    assert command.count(" -S ") == len(space)

    target = shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    applied = run(*ASL, "apply-params", tmp_path / "best.yaml", "--params", target)
    assert applied.returncode == 0, applied.stderr
    settings = load_params(target).models["TransformerPredictor"]
    assert settings["num_layers"] == best["models.TransformerPredictor.num_layers"]
    assert settings["optimizer"]["learning_rate"] == best["models.TransformerPredictor.optimizer.learning_rate"]


def test_bad_space_stops_before_ray_starts(processed, tmp_path):
    params, data = processed
    raw = yaml.safe_load(params.read_text())
    raw["tune"]["space"]["TransformerPredictor"]["augment.probability"] = {"type": "uniform", "low": 0.5, "high": 0.1}
    bad = tmp_path / "params.yaml"
    bad.write_text(yaml.safe_dump(raw, sort_keys=False))
    result = run(*ASL, "tune", "--trials", 2, "--params", bad, "--values", data / "landmarks.npy",
                 "--meta", data / "meta.csv", "--sign-map", data / "sign_map.json", "--split", data / "split.csv",
                 "--tracking-uri", tmp_path / "mlruns", "--storage", tmp_path / "ray", "--out", tmp_path / "best.yaml")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "tune.space.TransformerPredictor.augment.probability: empty range, low (0.5)" in result.stderr
    assert not (tmp_path / "ray").exists() and not (tmp_path / "mlruns").exists()
