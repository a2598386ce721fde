"""Fault injection: corrupt landmark files get the validator's reason and never reach a model; a killed stage leaves
nothing a later stage would trust and reruns to byte-identical outputs; a killed training resumes to the same model.

Real subprocesses of the stage scripts (as tests/test_pipeline.py runs them), killed with SIGKILL.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from asl.data.raw import LandmarkFileError, read_landmarks, validate_landmark_file
from tests.test_pipeline import REPO, run_stage, small_params

EPOCHS = 6  # tiny model and data: a kill when the first state is saved lands mid-run


def stage_command(stage: str, *arguments) -> list[str]:
    return [sys.executable, str(REPO / "stages" / f"{stage}.py"), *map(str, arguments)]


def kill_when(process: subprocess.Popen, ready, timeout: float = 60.0) -> str:
    """SIGKILL `process` as soon as `ready()` is true; returns its stderr (all its workers must be gone too)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, f"ended before the kill:\n{process.stderr.read()}"
        assert time.monotonic() < deadline, "never got ready"
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    _, stderr = process.communicate(timeout=20)  # returns once every holder of the pipe (the workers) has exited
    assert process.returncode == -signal.SIGKILL, "the stage finished before it was killed"
    return stderr


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A tiny sample, cleaned, with params for a tiny model trained for EPOCHS epochs, resumable."""
    work = tmp_path_factory.mktemp("faults")
    params = small_params(work, train={"epochs": EPOCHS, "resume": True,
                                       "early_stop": {"metric": "accuracy", "mode": "max", "patience": 1000,
                                                      "tolerance": 0.001}},
                          data={"workers": 2}, sample={"participants": 4, "sequences_per_sign": 16, "max_frames": 30})
    for stage, *arguments in [
        ("sample", "--out", work / "raw"),
        ("clean", "--raw-dir", work / "raw", "--recordings", work / "recordings.csv",
         "--sign-stats", work / "stats.csv", "--landmark-means", work / "means.csv"),
        ("split", "--recordings", work / "recordings.csv", "--split", work / "split.csv", "--report",
         work / "clean.json"),
    ]:
        result = run_stage(stage, "--params", params, *arguments)
        assert result.returncode == 0, result.stderr
    return work


# --- corrupt files ------------------------------------------------------------------------------------------------


def corrupt(table: pa.Table, case: str) -> pa.Table:
    x = table.column("x").to_numpy(zero_copy_only=False).copy()
    if case in ("inf", "huge"):
        x[543 + 470] = np.inf if case == "inf" else 1e30  # frame 1, left_hand 2
        return table.set_column(4, "x", pa.array(x))
    if case == "swapped":  # right row count, but the hands swapped in every frame
        types = np.array(table.column("type").to_pylist(), dtype=object)
        left, right = types == "left_hand", types == "right_hand"
        types[left], types[right] = "right_hand", "left_hand"
        return table.set_column(2, "type", pa.array(types.tolist()))
    if case == "repeated_frame":
        frames = table.column("frame").to_numpy().copy()
        frames[543:1086] = frames[0]
        return table.set_column(0, "frame", pa.array(frames))
    if case == "int32_frames":
        return table.set_column(0, "frame", table.column("frame").cast(pa.int32()))
    if case == "no_type":
        return table.drop_columns(["type"])
    if case == "truncated":
        return table.slice(0, 543 * 2 + 100)
    raise ValueError(case)


@pytest.mark.parametrize("case, reason, message", [
    ("inf", "non_finite", r"non-finite coordinate: x = inf at frame 1 \(left_hand 2\)"),
    ("huge", "out_of_range", r"coordinate out of range \(\|value\| > 100\): x = 1e\+30 at frame 1"),
    ("swapped", "bad_landmark_order", "rows are not in the Holistic layout"),
    ("repeated_frame", "bad_frame_numbers", "its own number"),
    ("int32_frames", "bad_schema", "column 'frame' has type int32, expected int16"),
    ("no_type", "bad_schema", r"missing column\(s\) type"),
    ("truncated", "bad_row_count", "1186 rows is not a positive multiple of 543"),
])
def test_each_corrupt_file_gets_its_reason_from_the_one_validator(tmp_path, write_landmarks, random_landmarks,
                                                                  case, reason, message):
    path = write_landmarks(tmp_path / "a.parquet", random_landmarks(3))
    pq.write_table(corrupt(pq.read_table(path), case), path)
    for check in (lambda: read_landmarks(path), lambda: validate_landmark_file(path)):  # reading = validating
        with pytest.raises(LandmarkFileError, match=message) as caught:
            check()
        assert caught.value.reason == reason and str(caught.value).startswith(str(path))


def test_unreadable_and_missing_files(tmp_path):
    (tmp_path / "garbage.parquet").write_bytes(b"PAR1 nothing PAR1")
    for name, reason in [("garbage.parquet", "unreadable_file"), ("absent.parquet", "missing_file")]:
        with pytest.raises(LandmarkFileError) as caught:
            read_landmarks(tmp_path / name)
        assert caught.value.reason == reason


def test_real_files_pass_and_validate_says_why_a_file_fails(gislr_sample, tmp_path, write_landmarks,
                                                            random_landmarks):
    real = sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))
    for path in real:
        read_landmarks(path, ("x", "y", "z"))  # the range limit holds for every real recording
    bad = write_landmarks(tmp_path / "bad.parquet", random_landmarks(3))
    pq.write_table(corrupt(pq.read_table(bad), "inf"), bad)
    result = CliRunner().invoke(__import__("asl.cli").cli.app, ["validate", str(real[0]), str(bad)])
    assert result.exit_code == 1
    assert f"error: {bad}: non-finite coordinate: x = inf at frame 1 (left_hand 2)" in result.output
    assert "1 of 2 files failed validation" in result.output and "Traceback" not in result.output


def test_pipeline_completes_beside_corrupt_files_and_the_report_names_each(work, tmp_path):
    """Beside good recordings: one with x = inf, one with landmarks out of order, one row with an unknown sign. The
    stages run through to evaluation, and clean_report.json names each with its reason."""
    from tests.test_pipeline import run_pipeline

    raw = tmp_path / "raw"
    subprocess.run(["cp", "-r", str(work / "raw"), str(raw)], check=True)
    index = pd.read_csv(raw / "train.csv", dtype=str)
    corrupted = {"non_finite": index["path"].iat[0], "bad_landmark_order": index["path"].iat[1]}
    for reason, case in (("non_finite", "inf"), ("bad_landmark_order", "swapped")):
        path = raw / corrupted[reason]
        pq.write_table(corrupt(pq.read_table(path), case), path)
    index.loc[2, "sign"] = "nosuchsign"
    index.to_csv(raw / "train.csv", index=False)
    corrupted["unknown_sign"] = index["path"].iat[2]

    metrics = run_pipeline(small_params(tmp_path, train={"epochs": 2}), raw, tmp_path)
    assert metrics["n_test"] > 0 and np.isfinite(metrics["accuracy"])
    report = json.loads((tmp_path / "clean.json").read_text())
    named = {reason: [example["path"] for part in report["splits"].values()
                      for example in part["examples"].get(reason, [])] for reason in corrupted}
    assert all(corrupted[reason] in named[reason] for reason in corrupted), named
    assert all(report["dropped"][reason] == 1 for reason in corrupted)


# --- killed stages ------------------------------------------------------------------------------------------------


def test_killed_preprocess_leaves_no_output_and_reruns_byte_identical(work, tmp_path):
    recordings = pd.read_csv(work / "recordings.csv", dtype=str, keep_default_na=False)
    many = pd.concat([recordings] * 60, ignore_index=True)  # the same files many times: a run long enough to kill
    many.to_csv(tmp_path / "recordings.csv", index=False)
    params = work / "params.yaml"

    def arguments(out: Path) -> list:
        return ["--params", params, "--raw-dir", work / "raw", "--recordings", tmp_path / "recordings.csv",
                "--values", out / "values.npy", "--meta", out / "meta.csv", "--sign-map", out / "map.json"]

    result = run_stage("preprocess", *arguments(tmp_path / "whole"))
    assert result.returncode == 0, result.stderr
    killed = tmp_path / "killed"
    process = subprocess.Popen(stage_command("preprocess", *arguments(killed)), cwd=REPO, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stderr = kill_when(process, lambda: any(killed.glob(".values.npy.tmp-*")))
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr  # workers died quietly
    assert not (killed / "values.npy").exists() and list(killed.glob(".values.npy.tmp-*"))
    ignored = subprocess.run(["git", "check-ignore", "-q", "data/processed/.landmarks.npy.tmp-123"], cwd=REPO)
    assert ignored.returncode == 0  # temporaries never show up as files to commit

    result = run_stage("preprocess", *arguments(killed))
    assert result.returncode == 0, result.stderr
    assert not list(killed.glob(".*.tmp-*"))  # the rerun removed the killed run's temporary
    for name in ("values.npy", "meta.csv", "map.json"):
        assert (killed / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    assert "\r" not in result.stderr and "preprocess: " in result.stderr  # no progress bar in a pipe: one line


def test_killed_training_is_marked_unfinished_and_resumes_to_the_same_model(work, capsys, write_landmarks,
                                                                           random_landmarks):
    import torch

    from asl.inference.predictor import load_predictor

    params = work / "params.yaml"
    result = run_stage("preprocess", "--params", params, "--raw-dir", work / "raw", "--recordings",
                       work / "recordings.csv", "--values", work / "values.npy", "--meta", work / "meta.csv",
                       "--sign-map", work / "map.json")
    assert result.returncode == 0, result.stderr

    def arguments(run: str) -> list:
        out = work / run
        return ["--params", params, "--values", work / "values.npy", "--meta", work / "meta.csv", "--sign-map",
                work / "map.json", "--split", work / "split.csv", "--checkpoint", out / "best", "--live-dir", out / "dvclive",
                "--tensorboard-dir", out / "runs", "--state-dir", out / "train_state"]

    whole = run_stage("train", *arguments("whole"))
    assert whole.returncode == 0, whole.stderr
    assert "Traceback" not in whole.stderr and "ImportError" not in whole.stderr  # quiet at shutdown (dulwich)
    process = subprocess.Popen(stage_command("train", *arguments("killed")), cwd=REPO, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kill_when(process, lambda: (work / "killed" / "train_state" / "state.pt").exists())
    killed = work / "killed"
    assert torch.load(killed / "best" / "model.pt", weights_only=True)["extra"]["finished"] is False
    capsys.readouterr()
    load_predictor(killed / "best", "cpu")  # what `asl predict` and the evaluate stage load
    warning = capsys.readouterr().err
    assert warning.startswith(f"warning: {killed / 'best' / 'model.pt'}: training did not finish"), warning

    for output in ("best", "runs", "dvclive"):  # as `dvc repro` does: outputs removed, the persistent state kept
        subprocess.run(["rm", "-rf", str(killed / output)], check=True)
    resumed = run_stage("train", *arguments("killed"))
    assert resumed.returncode == 0, resumed.stderr
    epoch = int(resumed.stdout.split("resuming after epoch ")[1].split()[0])
    assert 0 <= epoch < EPOCHS - 1  # it continued midway, not from the start nor from the end
    finished = {run: torch.load(work / run / "best" / "model.pt", weights_only=True) for run in ("whole", "killed")}
    assert all(checkpoint["extra"]["finished"] for checkpoint in finished.values())
    for name, weights in finished["whole"]["state_dict"].items():
        assert torch.equal(weights, finished["killed"]["state_dict"][name]), name
    # the same weights score the same on any split; the logged history and final metrics are the same too
    assert ((work / "whole" / "dvclive" / "metrics.json").read_text()
            == (killed / "dvclive" / "metrics.json").read_text())
    assert ((work / "whole" / "dvclive" / "plots" / "metrics" / "valid" / "accuracy.tsv").read_text()
            == (killed / "dvclive" / "plots" / "metrics" / "valid" / "accuracy.tsv").read_text())

    # the finished model: thin input is predicted with a warning, non-finite input never reaches it
    thin = random_landmarks(4)
    thin[1:, 468:489] = thin[1:, 522:543] = np.nan  # a hand in one frame only
    bad = thin.copy()
    bad[0, 0, 1] = -np.inf
    files = [write_landmarks(work / name, values) for name, values in (("thin.parquet", thin), ("bad.parquet", bad))]
    result = CliRunner().invoke(__import__("asl.cli").cli.app, [
        "predict", "landmarks", *map(str, files), "--checkpoint", str(work / "whole" / "best"), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert [record["file"] for record in report["files"]] == [str(files[0])]
    assert report["files"][0]["warnings"] == ["only 1 of 4 frames show a hand, fewer than the clean.min_frames=3 "
                                              "that training required: the prediction is unsure"]
    assert f"warning: {files[0]}: only 1 of 4 frames show a hand" in result.stderr
    assert f"error: {files[1]}: non-finite coordinate: y = -inf at frame 0 (face 0)" in result.stderr
