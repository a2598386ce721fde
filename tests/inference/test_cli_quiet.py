"""`asl predict` in a fresh process: no library chatter by default, no framework it does not need, and a note
when the checkpoint knows only the built-in sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from asl.checkpoint import training_data_note

REPO = Path(__file__).resolve().parents[2]
NOISE = ("tensorflow", "TensorFlow", "cuInit", "CUDA", "XLA", "absl", "W0000", "I0000", "E0000")
# Runs the `asl` command, then prints which heavy modules the process had imported.
RUNNER = """
import json, sys
from asl.cli import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"exit": code, "imported": sorted(m for m in ("tensorflow", "dvclive", "lightning") if m in sys.modules)}))
"""


def run_asl(*arguments) -> tuple[str, dict]:
    environment = {key: value for key, value in os.environ.items() if key != "ASL_VERBOSE"}
    environment["PYTHONPATH"] = os.pathsep.join([str(REPO), environment.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-c", RUNNER, *map(str, arguments)], capture_output=True, text=True,
                            env=environment, cwd=REPO, timeout=300)
    *printed, report = result.stdout.splitlines()
    return "\n".join([*printed, result.stderr]), json.loads(report)


def test_predicting_a_video_with_a_pytorch_checkpoint_is_quiet(shared_videos, checkpoint):
    output, report = run_asl("predict", "video", shared_videos / "brother__wlasl_1.mp4", "--checkpoint", checkpoint,
                             "--frames", 8, "--top", 2)
    assert report["exit"] in (0, None), output
    assert f"brother__wlasl_1.mp4: " in output
    noisy = [line for line in output.splitlines() if any(word in line for word in NOISE)]
    assert not noisy, noisy
    assert report["imported"] == [], "a PyTorch checkpoint's prediction needs no TensorFlow, DVCLive or Lightning"
    # the fixture's checkpoint records params.yaml's data.raw_dir, the sample stage's output
    assert ("note: this checkpoint was trained on the built-in synthetic sample (3 signs: hello, thankyou, bye): it knows "
            "only those") in output


@pytest.mark.parametrize("raw_dir, sample", [("data/raw/sample", True), ("./data/raw/sample", True),
                                             ("/home/me/asl/data/raw/sample", True), ("data/raw/kaggle", False),
                                             (None, False)])
def test_the_training_data_note_names_the_built_in_sample_only(raw_dir, sample):
    params = {"data": {"raw_dir": raw_dir}, "sample": {"signs": 2}} if raw_dir else {}
    note = training_data_note({"signs": ["hello", "bye", "mom"], "params": params})
    assert (note == "note: this checkpoint was trained on the built-in synthetic sample (2 signs): it knows only "
                    "those") if sample else note is None


def test_native_stderr_is_silenced_while_python_stderr_still_shows():
    script = """
import os, sys
from asl.logs import native_logs_silenced, quiet_libraries
quiet_libraries()
with native_logs_silenced():
    os.write(2, b"W0000 native chatter\\n")
    print("python warning", file=sys.stderr)
os.write(2, b"native after\\n")
"""
    environment = {key: value for key, value in os.environ.items() if key != "ASL_VERBOSE"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                            env={**environment, "PYTHONPATH": str(REPO)}, check=True)
    assert result.stderr.splitlines() == ["python warning", "native after"]
