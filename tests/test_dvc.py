"""The pipeline under DVC in a scratch copy of the repository: `dvc repro`, then an experiment with another model."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


DVC = [sys.executable, "-m", "dvc"]
ENVIRONMENT = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENVIRONMENT)


def git_status(repository: Path) -> str:
    return run(["git", "status", "--porcelain"], repository).stdout


def make_scratch_repository(folder: Path) -> Path:
    """The tracked files of this repository in a new git repository, with a small sample and short training."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split("\0")
    copy = folder / "repo"
    for name in filter(None, files):
        if (REPO / name).is_file() and not name.startswith(("metrics/", "dvclive/", "reports/")):
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    (copy / "dvc.lock").unlink(missing_ok=True)
    params = yaml.safe_load((copy / "params.yaml").read_text())
    params["sample"].update(participants=5, signs=["hello", "thankyou", "bye"], sequences_per_sign=20, max_frames=30)
    params["train"].update(epochs=2, batch_size=16)
    params["split"].update(train_size=0.4, valid_size=0.2, test_size=0.4)  # two test participants: an interval
    params["model"] = "TransformerPredictor"  # small and quick: these tests are about the pipeline
    params["models"]["TransformerPredictor"].update(d_model=16, num_heads=2, dim_feedforward=32, num_layers=1)
    params["models"]["LSTMPredictor"].update(hidden_dim=16, num_layers=1)
    (copy / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for command in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"]):
        subprocess.run(command, cwd=copy, check=True)
    return copy


def commit_all(repository: Path, message: str) -> None:
    run(["git", "add", "-A"], repository)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", message], repository)


@pytest.fixture
def scratch_repository(tmp_path: Path) -> Path:
    """A scratch repository where nothing has run yet."""
    return make_scratch_repository(tmp_path)


@pytest.fixture(scope="module")
def first_repro(tmp_path_factory) -> tuple[Path, str]:
    """A scratch repository after its first `dvc repro`, committed, and that repro's output: made once, since a
    whole pipeline takes about a minute here; each test works in a copy of it (`repository`)."""
    repository = make_scratch_repository(tmp_path_factory.mktemp("reproduced"))
    first = run([*DVC, "repro"], repository)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    commit_all(repository, "repro")
    return repository, first.stdout


@pytest.fixture
def repository(first_repro, tmp_path: Path) -> Path:
    """A copy of the repository after its first `dvc repro` (git history, DVC cache and outputs included)."""
    return Path(shutil.copytree(first_repro[0], tmp_path / "repo", symlinks=True))


def stages_run(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")]


def test_repro_then_a_new_model_reruns_only_train_evaluate_report(first_repro, repository):
    assert stages_run(first_repro[1]) == ["check", "sample", "clean", "preprocess", "split", "train", "evaluate",
                                          "report"]
    assert (repository / "reports" / "report" / "report.md").is_file()

    experiment = run([*DVC, "exp", "run", "-S", "model=LSTMPredictor"], repository)
    assert experiment.returncode == 0, experiment.stdout[-3000:] + experiment.stderr[-3000:]
    assert stages_run(experiment.stdout) == ["check", "train", "evaluate", "report"]

    # Another model's hyperparameters are not a dependency of the selected model's training.
    other = run([*DVC, "exp", "run", "-S", "models.TransformerPredictor.d_model=24"], repository)
    assert other.returncode == 0 and stages_run(other.stdout) == ["check"]

    shown = run([*DVC, "exp", "show", "--csv"], repository)
    header = shown.stdout.splitlines()[0].split(",")
    assert shown.returncode == 0 and {"top5_accuracy", "split_strategy", "model"} <= set(header)
    assert {"accuracy_ci95_low", "accuracy_ci95_high", "mirrored", "lips_missing"} <= set(header)
    assert "LSTMPredictor" in shown.stdout

    # A bad value stops in `check`, before DVC removes train's outputs.
    checkpoint = repository / "models" / "best" / "model.pt"
    assert checkpoint.is_file()
    bad = run([*DVC, "exp", "run", "-S", "train.epochs=0"], repository)
    assert bad.returncode != 0 and stages_run(bad.stdout) == ["check"]
    assert "train.epochs must be at least 1, got 0" in bad.stdout + bad.stderr
    assert checkpoint.is_file()


def test_fold_experiments_and_their_cross_validation_summary(repository):
    fold_experiment = [*DVC, "exp", "run", "-S", "split.strategy=group_kfold", "-S", "split.folds=2"]
    tested = []
    for fold in (0, 1):
        result = run([*fold_experiment, "-S", f"split.fold={fold}"], repository)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        # A split change reruns the split and what depends on it, never sample, clean or preprocess.
        assert stages_run(result.stdout) == ["check", "split", "train", "evaluate", "report"]
        split = (repository / "data" / "interim" / "split.csv").read_text().splitlines()[1:]
        tested.append({line.split(",")[1] for line in split if line.split(",")[4] == "test"})
    assert tested[0] and tested[1] and not tested[0] & tested[1]  # fold 1 tests other participants

    summary = run([sys.executable, "-c", "from asl.cli import app; app()", "cv-summary"], repository)
    assert summary.returncode == 0, summary.stderr[-3000:]
    lines = summary.stdout.splitlines()
    assert lines[0].startswith("2 of 2 folds (TransformerPredictor): fold 0 = ")
    accuracy = next(line for line in lines if line.startswith("accuracy "))
    assert re.fullmatch(r"accuracy +\d\.\d{4} ± \d\.\d{4}", accuracy)
    assert any(line.startswith("accuracy_ci95_low ") for line in lines)
    assert any(re.fullmatch(r"n_test +\d+\.\d{4} ± \d+\.\d{4}", line) for line in lines)


def test_unknown_model_fails_before_any_work(scratch_repository):
    result = run([*DVC, "exp", "run", "-S", "model=NoSuchModel"], scratch_repository)
    assert result.returncode != 0
    assert "model 'NoSuchModel' does not exist for PyTorch; PyTorch models are:" in result.stdout + result.stderr
    assert stages_run(result.stdout) == ["check"]  # nothing else ran
    assert not (scratch_repository / "data" / "raw" / "sample").exists()


def test_a_fresh_repro_leaves_git_clean_and_checkout_recovers_a_killed_experiment(repository, tmp_path):
    # A fresh clone, sharing the first run's cache (config.local is git-ignored) so that the data stages come from
    # it; training and what follows run again and reproduce every tracked file and dvc.lock byte for byte.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repository), str(clone)], check=True)
    run([*DVC, "config", "--local", "cache.dir", str(repository / ".dvc" / "cache")], clone)
    assert run([*DVC, "checkout"], clone).returncode == 0
    again = run([*DVC, "repro", "--force", "--downstream", "train"], clone)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert stages_run(again.stdout) == ["train", "evaluate", "report"]
    assert git_status(clone) == ""
    assert len(list((clone / "runs").glob("events.out.tfevents.*"))) == 1  # git-ignored, this run's only

    # An experiment killed while training: params.yaml changed, the checkpoint removed or half-written, and HEAD
    # detached (`dvc exp run` checks out the commit while it runs).
    branch = run(["git", "branch", "--show-current"], clone).stdout.strip()
    logs = set((clone / "runs").iterdir())
    longer = ["-S", "train.epochs=500", "-S", "train.early_stop.patience=500"]
    experiment = subprocess.Popen([*DVC, "exp", "run", *longer], cwd=clone, env=ENVIRONMENT, start_new_session=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not set((clone / "runs").iterdir()) - logs and experiment.poll() is None and time.monotonic() < deadline:
        time.sleep(0.5)
    training = bool(set((clone / "runs").iterdir()) - logs) and experiment.poll() is None
    if experiment.poll() is None:
        os.killpg(experiment.pid, signal.SIGKILL)
    experiment.wait()
    assert training  # killed while training, not ended on its own
    assert "params.yaml" in git_status(clone)

    # The recovery the README gives: the branch and git's files back, then DVC's outputs as dvc.lock records them.
    assert run(["git", "switch", branch], clone).returncode == 0
    restore = ["git", "restore", "--staged", "--worktree", "params.yaml", "dvc.lock", "dvclive", "metrics", "reports"]
    assert run(restore, clone).returncode == 0
    checkout = run([*DVC, "checkout", "--force"], clone)
    assert checkout.returncode == 0, checkout.stdout + checkout.stderr
    assert git_status(clone) == "" and run(["git", "branch", "--show-current"], clone).stdout.strip() == branch
    # Every output as dvc.lock records it, but for the resumable training state, which may be the killed run's (not
    # cached: a checkout keeps it, so that train.resume can continue from it).
    status = json.loads(run([*DVC, "status", "--json"], clone).stdout)
    assert status in ({}, {"train": [{"changed outs": {"models/train_state": "modified"}}]})
