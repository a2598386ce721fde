"""The pipeline under DVC in a scratch copy of the repository: `dvc repro`, then an experiment with another model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=environment)


@pytest.fixture
def scratch_repository(tmp_path: Path) -> Path:
    """The tracked files of this repository in a new git repository, with a small sample and short training."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split("\0")
    copy = tmp_path / "repo"
    for name in filter(None, files):
        if (REPO / name).is_file() and not name.startswith(("metrics/", "dvclive/", "reports/")):
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    (copy / "dvc.lock").unlink(missing_ok=True)
    params = yaml.safe_load((copy / "params.yaml").read_text())
    params["sample"].update(participants=5, signs=["hello", "thankyou", "bye"], sequences_per_sign=20, max_frames=30)
    params["train"].update(epochs=2, batch_size=16)
    params["models"]["TransformerPredictor"].update(d_model=16, n_head=2, dim_feedforward=32, num_layers=1)
    params["models"]["LSTMPredictor"].update(hidden_dim=16, layer_dim=1)
    (copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]):
        subprocess.run(command, cwd=copy, check=True)
    return copy


def stages_run(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def test_repro_then_a_new_model_reruns_only_train_evaluate_report(scratch_repository):
    dvc = [sys.executable, "-m", "dvc"]
    first = run([*dvc, "repro"], scratch_repository)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert stages_run(first.stdout) == ["check", "sample", "clean", "preprocess", "train", "evaluate", "report"]
    assert (scratch_repository / "reports" / "report" / "report.md").is_file()

    experiment = run([*dvc, "exp", "run", "-S", "model=LSTMPredictor"], scratch_repository)
    assert experiment.returncode == 0, experiment.stdout[-3000:] + experiment.stderr[-3000:]
    assert stages_run(experiment.stdout) == ["check", "train", "evaluate", "report"]

    # Another model's hyperparameters are not a dependency of the selected model's training.
    other = run([*dvc, "exp", "run", "-S", "models.TransformerPredictor.d_model=24"], scratch_repository)
    assert other.returncode == 0 and stages_run(other.stdout) == ["check"]

    shown = run([*dvc, "exp", "show", "--csv"], scratch_repository)
    header = shown.stdout.splitlines()[0].split(",")
    assert shown.returncode == 0 and {"top5_accuracy", "split_strategy", "model"} <= set(header)
    assert "LSTMPredictor" in shown.stdout


def test_unknown_model_fails_before_any_work(scratch_repository):
    result = run([sys.executable, "-m", "dvc", "exp", "run", "-S", "model=NoSuchModel"], scratch_repository)
    assert result.returncode != 0
    assert "model 'NoSuchModel' does not exist for PyTorch; PyTorch models are:" in result.stdout + result.stderr
    assert stages_run(result.stdout) == ["check"]  # nothing else ran
    assert not (scratch_repository / "data" / "raw" / "sample").exists()
