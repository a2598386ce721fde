"""The stages end to end: on a tiny built-in sample, on the real competition files, and under DVC."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def small_params(tmp_path: Path, **sections) -> Path:
    """The repository's params.yaml, made small enough for a test, with `sections` overriding keys."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["sample"].update(participants=5, signs=["hello", "thankyou", "bye"], sequences_per_sign=30, max_frames=40)
    params["train"].update(epochs=12, batch_size=8)
    params["models"]["TransformerPredictor"].update(d_model=32, n_head=4, dim_feedforward=64, num_layers=1)
    params["models"]["LSTMPredictor"].update(hidden_dim=32, layer_dim=1)
    for section, values in sections.items():
        if isinstance(values, dict):
            params[section].update(values)
        else:
            params[section] = values
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def run_stage(stage: str, *arguments: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "stages" / f"{stage}.py"), *map(str, arguments)],
                          cwd=cwd, capture_output=True, text=True)


def run_pipeline(params: Path, raw_dir: Path, work: Path) -> dict:
    """clean → preprocess → train → evaluate with the stage scripts; returns metrics/eval.json."""
    steps = [
        ("clean", "--raw-dir", raw_dir, "--kept", work / "kept.csv", "--report", work / "clean.json",
         "--sign-stats", work / "stats.csv", "--landmark-means", work / "means.csv"),
        ("preprocess", "--raw-dir", raw_dir, "--kept", work / "kept.csv", "--values", work / "values.npy",
         "--meta", work / "meta.csv", "--sign-map", work / "map.json"),
        ("train", "--values", work / "values.npy", "--meta", work / "meta.csv", "--sign-map", work / "map.json",
         "--checkpoint", work / "model", "--live-dir", work / "dvclive", "--tensorboard-dir", work / "runs"),
        ("evaluate", "--checkpoint", work / "model", "--values", work / "values.npy", "--meta",
         work / "meta.csv", "--sign-map", work / "map.json", "--metrics", work / "eval.json",
         "--predictions", work / "predictions.csv", "--report", work / "report.txt"),
    ]
    for stage, *arguments in steps:
        result = run_stage(stage, "--params", params, *arguments)
        assert result.returncode == 0, f"{stage} failed:\n{result.stderr[-3000:]}"
    return json.loads((work / "eval.json").read_text())


EVAL_KEYS = {"accuracy", "top5_accuracy", "loss", "f1_macro", "precision_macro", "recall_macro", "auc_macro",
             "per_participant", "split_strategy", "n_test"}


def test_stages_on_the_built_in_sample(tmp_path):
    params = small_params(tmp_path)
    result = run_stage("sample", "--params", params, "--out", tmp_path / "raw")
    assert result.returncode == 0, result.stderr
    metrics = run_pipeline(params, tmp_path / "raw", tmp_path)
    assert set(metrics) == EVAL_KEYS
    assert metrics["split_strategy"] == "participant" and metrics["n_test"] > 0
    assert metrics["accuracy"] > 0.6  # chance is 1/3 on three signs
    assert len(metrics["per_participant"]) == 1  # one of five participants is held out for testing
    history = (tmp_path / "dvclive" / "plots" / "metrics" / "valid" / "f1_macro.tsv").read_text().splitlines()
    assert len(history) > 1 and list((tmp_path / "runs").iterdir())  # dvclive and TensorBoard logs


def test_real_data_tells_hello_from_thankyou_for_unseen_signers(gislr_sample, tmp_path):
    params = small_params(tmp_path, train={"epochs": 15},
                          split={"valid_participants": ["37055"], "test_participants": ["30680", "53618"]})
    metrics = run_pipeline(params, gislr_sample, tmp_path)
    clean_report = json.loads((tmp_path / "clean.json").read_text())
    assert clean_report["n_index_rows"] == 94477
    assert clean_report["dropped"]["missing_file"] == 94477 - 267  # absent files are reported, not fatal
    assert set(metrics["per_participant"]) == {"30680", "53618"}
    assert metrics["accuracy"] > 0.75, metrics  # two signs: chance is 0.5


@pytest.mark.parametrize("broken, message", [
    ({"model": "Foo"}, "model 'Foo' does not exist for PyTorch; PyTorch models are: "),
    ({"train": {"epochs": "many"}}, "train.epochs must be of type int, got 'many'"),
    ({"augment": {"methods": ["shfit"]}}, "unknown augmentation method 'shfit'"),
])
def test_train_rejects_bad_params_before_any_work(tmp_path, broken, message):
    params = small_params(tmp_path, **broken)
    result = run_stage("train", "--params", params, "--values", tmp_path / "absent.npy", "--meta",
                       tmp_path / "absent.csv", "--sign-map", tmp_path / "absent.json", "--checkpoint",
                       tmp_path / "model", "--live-dir", tmp_path / "live", "--tensorboard-dir", tmp_path / "tb")
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "tensorflow" not in result.stderr  # a PyTorch run never imports TensorFlow
    if "model" in broken:
        assert "LSTMPredictor" in result.stderr and "TransformerPredictor" in result.stderr
    assert not (tmp_path / "model").exists() and not (tmp_path / "live").exists()


def test_clean_records_bad_files_and_keeps_going(tmp_path):
    params = small_params(tmp_path)
    run_stage("sample", "--params", params, "--out", tmp_path / "raw")
    files = sorted((tmp_path / "raw" / "train_landmark_files").glob("*/*.parquet"))
    files[0].write_bytes(b"")  # empty
    files[1].write_bytes(b"not parquet at all")  # corrupt
    result = run_stage("clean", "--params", params, "--raw-dir", tmp_path / "raw", "--kept", tmp_path / "kept.csv",
                       "--report", tmp_path / "clean.json", "--sign-stats", tmp_path / "stats.csv",
                       "--landmark-means", tmp_path / "means.csv")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "clean.json").read_text())
    assert report["dropped"]["unreadable_file"] == 2
    details = [example["detail"] for example in report["examples"]["unreadable_file"]]
    assert all("not a readable parquet file" in detail for detail in details)
    stats = (tmp_path / "stats.csv").read_text().splitlines()
    assert stats[0] == "sign,count,min,max,mean,median,std" and len(stats) == 4


def test_clean_fails_clearly_on_an_index_without_signs(tmp_path):
    params = small_params(tmp_path)
    run_stage("sample", "--params", params, "--out", tmp_path / "raw")
    index = tmp_path / "raw" / "train.csv"
    lines = [",".join(line.split(",")[:3]) for line in index.read_text().splitlines()]
    index.write_text("\n".join(lines) + "\n")
    result = run_stage("clean", "--params", params, "--raw-dir", tmp_path / "raw", "--kept", tmp_path / "kept.csv",
                       "--report", tmp_path / "clean.json", "--sign-stats", tmp_path / "stats.csv",
                       "--landmark-means", tmp_path / "means.csv")
    assert result.returncode == 1 and "train.csv: missing column(s) sign" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "kept.csv").exists()
