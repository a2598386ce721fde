"""The README's quick start as a new user runs it: a fresh clone of HEAD, alone in a scratch folder (no ../shared),
then `scripts/setup.sh`, `dvc repro` on the built-in sample and `scripts/test.sh --quick`, each timed; then whether
`git status` is clean after the reproduction (the committed dvc.lock reproduced bit for bit), and which metrics
`dvc metrics diff` finds changed and by how much at most (a CPU other than the one that made dvc.lock rounds the
training's sums otherwise: benchmarks/reproducibility.py).

Usage: python benchmarks/quickstart.py [--json PATH]
The clone, its environment and its outputs live in a temporary folder that is removed at the end. The install uses
pip's configured indexes and cache, as a user's would. Prints one figure per line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import typer
from figures import JSON_OPTION, Figures

REPO = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path, environment: dict[str, str]) -> float:
    """Seconds `command` took; its output goes to this process's (a failure stops the benchmark)."""
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=environment, check=True)
    return time.perf_counter() - start


def metric_changes(clone: Path, environment: dict[str, str]) -> dict[str, float]:
    """Each metric whose value `dvc metrics diff` finds changed in the workspace, with the absolute change."""
    diff = json.loads(subprocess.run(["dvc", "metrics", "diff", "--json"], cwd=clone, env=environment,
                                     capture_output=True, text=True, check=True).stdout or "{}")
    return {f"{path}:{name}": abs(change["diff"]) for path, metrics in diff.items()
            for name, change in metrics.items() if isinstance(change.get("diff"), (int, float))}


def main(json_path: Path = JSON_OPTION) -> None:
    figures = Figures(json_path)
    scratch = Path(tempfile.mkdtemp(prefix="asl-quickstart-"))
    try:
        clone = scratch / "asl"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        environment = {key: value for key, value in os.environ.items()
                       if key not in ("VIRTUAL_ENV", "PYTHONPATH", "ASL_VENV")}
        environment["PATH"] = os.pathsep.join(part for part in environment["PATH"].split(os.pathsep)
                                              if not part.startswith(str(REPO)))  # not this checkout's environment
        setup = timed(["scripts/setup.sh"], clone, environment)
        environment["PATH"] = f"{clone / '.venv' / 'bin'}{os.pathsep}{environment['PATH']}"  # as `source activate`
        repro = timed(["dvc", "repro"], clone, environment)
        changed = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                                 check=True).stdout.splitlines()
        metrics_changed = metric_changes(clone, environment)
        quick = timed(["scripts/test.sh", "--quick", "-q", "-p", "no:cacheprovider"], clone, environment)
        figures.line("setup_s", setup, ".0f")
        figures.line("dvc_repro_s", repro, ".0f")
        figures.line("test_quick_s", quick, ".0f")
        figures.line("files_changed_after_repro", len(changed))
        figures.line("metrics_changed_after_repro", len(metrics_changed))
        figures.line("largest_metric_change_after_repro", max(metrics_changed.values(), default=0.0), ".1e")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    figures.write()


if __name__ == "__main__":
    typer.run(main)
