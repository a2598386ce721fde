"""The per-epoch logger: dvclive's failure in a git repository without a commit becomes a message saying what to do."""

import subprocess

import pytest

from asl.errors import AslError
from asl.training.logging import EpochLogger


def test_a_repository_without_any_commit_is_a_clear_error(tmp_path, monkeypatch):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AslError, match=r"dvclive cannot log to .*dvclive in this git repository .*commit once"):
        EpochLogger(tmp_path / "dvclive", tmp_path / "runs")
