"""The stages end to end: on a tiny built-in sample, on the real competition files, and under DVC."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from asl.data.quality import QUALITY_RULES

REPO = Path(__file__).resolve().parents[1]


def small_params(tmp_path: Path, **sections) -> Path:
    """The repository's params.yaml, made small enough for a test, with `sections` overriding keys."""
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["sample"].update(participants=5, signs=["hello", "thankyou", "bye"], sequences_per_sign=30, max_frames=40)
    params["train"].update(epochs=12, batch_size=8)
    params["model"] = "TransformerPredictor"  # small and quick: these tests are about the pipeline
    params["models"]["TransformerPredictor"].update(d_model=32, num_heads=4, dim_feedforward=64, num_layers=1)
    params["models"]["LSTMPredictor"].update(hidden_dim=32, num_layers=1)
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
    """clean → preprocess → split → train → evaluate with the stage scripts; returns metrics/eval.json."""
    data = ("--values", work / "values.npy", "--meta", work / "meta.csv", "--sign-map", work / "map.json",
            "--split", work / "split.csv")
    steps = [
        ("clean", "--raw-dir", raw_dir, "--recordings", work / "recordings.csv", "--sign-stats", work / "stats.csv",
         "--landmark-means", work / "means.csv"),
        ("preprocess", "--raw-dir", raw_dir, "--recordings", work / "recordings.csv", *data[:6]),
        ("split", "--recordings", work / "recordings.csv", "--split", work / "split.csv", "--report",
         work / "clean.json"),
        ("train", *data, "--checkpoint", work / "model", "--live-dir", work / "dvclive", "--tensorboard-dir",
         work / "runs"),
        ("evaluate", "--checkpoint", work / "model", *data, "--raw-dir", raw_dir, "--metrics", work / "eval.json",
         "--robustness", work / "robustness.json", "--predictions", work / "predictions.csv", "--unscorable",
         work / "unscorable.csv", "--report", work / "report.txt"),
    ]
    for stage, *arguments in steps:
        result = run_stage(stage, "--params", params, *arguments)
        assert result.returncode == 0, f"{stage} failed:\n{result.stderr[-3000:]}"
    return json.loads((work / "eval.json").read_text())


EVAL_KEYS = {"accuracy", "accuracy_ci95", "accuracy_ci95_low", "accuracy_ci95_high", "top5_accuracy", "loss",
             "f1_macro", "precision_macro", "recall_macro", "auc_macro", "per_participant", "split_strategy", "n_test",
             "n_unscorable", "n_missing"}
ROBUSTNESS_KEYS = ["clean", "frame_drop_25", "frame_drop_50", "speed_0.5x", "speed_2x", "noise_1pct", "mirrored",
                   "lips_missing"]


def test_stages_on_the_built_in_sample(tmp_path):
    params = small_params(tmp_path, sample={"participants": 6, "sequences_per_sign": 36},
                          split={"train_size": 0.5, "valid_size": 0.17, "test_size": 0.33})
    result = run_stage("sample", "--params", params, "--out", tmp_path / "raw")
    assert result.returncode == 0, result.stderr
    metrics = run_pipeline(params, tmp_path / "raw", tmp_path)
    assert set(metrics) == EVAL_KEYS
    assert metrics["split_strategy"] == "participant" and metrics["n_test"] > 0
    assert metrics["accuracy"] > 0.6  # chance is 1/3 on three signs
    low, high = metrics["accuracy_ci95"]
    assert low <= metrics["accuracy"] <= high
    assert len(metrics["per_participant"]) == 2  # two of six participants are held out for testing
    robustness = json.loads((tmp_path / "robustness.json").read_text())
    assert list(robustness) == ROBUSTNESS_KEYS
    assert robustness["clean"] == pytest.approx(metrics["accuracy"])  # the same preprocessing, from the raw files
    assert all(0 <= value <= 1 for value in robustness.values())
    history = (tmp_path / "dvclive" / "plots" / "metrics" / "valid" / "f1_macro.tsv").read_text().splitlines()
    assert len(history) > 1 and list((tmp_path / "runs").iterdir())  # dvclive and TensorBoard logs


def readable_files(raw_dir: Path, participants: list[str]) -> int:
    from asl.data.raw import LandmarkFileError, read_landmarks

    count = 0
    for participant in participants:
        for path in (raw_dir / "train_landmark_files" / participant).glob("*.parquet"):
            try:
                read_landmarks(path)
                count += 1
            except LandmarkFileError:
                pass
    return count


def test_real_data_scores_every_readable_test_recording(gislr_sample, tmp_path):
    test_participants = ["30680", "53618"]
    params = small_params(tmp_path, train={"epochs": 15},
                          split={"valid_participants": ["37055"], "test_participants": test_participants})
    metrics = run_pipeline(params, gislr_sample, tmp_path)
    clean_report = json.loads((tmp_path / "clean.json").read_text())
    assert clean_report["n_index_rows"] == 94477
    assert clean_report["dropped"]["missing_file"] == 94477 - 267  # absent files are reported, not fatal
    assert set(metrics["per_participant"]) == set(test_participants)
    assert metrics["accuracy"] > 0.75, metrics  # two signs: chance is 0.5

    # The whole test split is scored: n_test is every readable test recording, the rules dropped no test row.
    assert metrics["n_test"] == readable_files(gislr_sample, test_participants) > 0
    split = pd.read_csv(tmp_path / "split.csv", dtype=str, keep_default_na=False)
    test = split[split["split"] == "test"]
    assert not set(test["dropped"]) & set(QUALITY_RULES)  # only unusable files leave the test split
    assert metrics["n_missing"] == (test["dropped"] == "missing_file").sum()
    assert metrics["n_test"] + metrics["n_unscorable"] + metrics["n_missing"] == len(test)
    assert clean_report["splits"]["test"]["kept"] == metrics["n_test"]
    assert not set(clean_report["splits"]["test"]["dropped"]) & set(QUALITY_RULES)


@pytest.mark.parametrize("broken, message", [
    ({"model": "Foo"}, "model 'Foo' does not exist for PyTorch; PyTorch models are: "),
    ({"train": {"epochs": "many"}}, "train.epochs must be of type int, got 'many'"),
    ({"augment": {"methods": ["shfit"]}}, "unknown augmentation method 'shfit'"),
])
def test_train_rejects_bad_params_before_any_work(tmp_path, broken, message):
    params = small_params(tmp_path, **broken)
    result = run_stage("train", "--params", params, "--values", tmp_path / "absent.npy", "--meta",
                       tmp_path / "absent.csv", "--sign-map", tmp_path / "absent.json", "--split",
                       tmp_path / "absent_split.csv", "--checkpoint", tmp_path / "model", "--live-dir",
                       tmp_path / "live", "--tensorboard-dir", tmp_path / "tb")
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "tensorflow" not in result.stderr  # a PyTorch run never imports TensorFlow
    if "model" in broken:
        assert "LSTMPredictor" in result.stderr and "TransformerPredictor" in result.stderr
    assert not (tmp_path / "model").exists() and not (tmp_path / "live").exists()


def clean_stage(params: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    return run_stage("clean", "--params", params, "--raw-dir", tmp_path / "raw", "--recordings",
                     tmp_path / "recordings.csv", "--sign-stats", tmp_path / "stats.csv", "--landmark-means",
                     tmp_path / "means.csv")


def test_clean_records_bad_files_and_keeps_going(tmp_path):
    params = small_params(tmp_path)
    run_stage("sample", "--params", params, "--out", tmp_path / "raw")
    files = sorted((tmp_path / "raw" / "train_landmark_files").glob("*/*.parquet"))
    files[0].write_bytes(b"")  # empty
    files[1].write_bytes(b"not parquet at all")  # corrupt
    files[2].unlink()
    result = clean_stage(params, tmp_path)
    assert result.returncode == 0, result.stderr
    recordings = pd.read_csv(tmp_path / "recordings.csv", dtype=str, keep_default_na=False)
    assert list(recordings.columns) == ["path", "participant_id", "sequence_id", "sign", "frames", "usable_frames",
                                        "longest_missing_run", "problem", "detail"]
    problems = recordings.set_index("path")["problem"]
    relative = [str(file.relative_to(tmp_path / "raw")) for file in files[:3]]
    assert problems[relative].tolist() == ["unreadable_file", "unreadable_file", "missing_file"]
    assert (problems.drop(relative) == "").all()  # no rule that needs labels or statistics runs here
    details = recordings.set_index("path")["detail"][relative[:2]]
    assert all("not a readable parquet file" in detail for detail in details)
    stats = (tmp_path / "stats.csv").read_text().splitlines()
    assert stats[0] == "sign,count,min,max,mean,median,std" and len(stats) == 4


def test_clean_stops_when_no_recording_is_usable(tmp_path):
    params = small_params(tmp_path)
    run_stage("sample", "--params", params, "--out", tmp_path / "raw")
    shutil.rmtree(tmp_path / "raw" / "train_landmark_files")
    result = clean_stage(params, tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no usable recording among 90 index rows ({'missing_file': 90})" in result.stderr
    assert not (tmp_path / "recordings.csv").exists()


def test_clean_fails_clearly_on_an_index_without_signs(tmp_path):
    params = small_params(tmp_path)
    run_stage("sample", "--params", params, "--out", tmp_path / "raw")
    index = tmp_path / "raw" / "train.csv"
    lines = [",".join(line.split(",")[:3]) for line in index.read_text().splitlines()]
    index.write_text("\n".join(lines) + "\n")
    result = clean_stage(params, tmp_path)
    assert result.returncode == 1 and "train.csv: missing column(s) sign" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "recordings.csv").exists()


def test_split_stage_rejects_a_fold_out_of_range(tmp_path):
    params = small_params(tmp_path, split={"strategy": "group_kfold", "folds": 3, "fold": 3})
    result = run_stage("check", "--params", params, "--out", tmp_path / "check.txt")
    assert result.returncode == 1 and "split.fold must be in 0..2 (split.folds=3), got 3" in result.stderr
    assert not (tmp_path / "check.txt").exists()
