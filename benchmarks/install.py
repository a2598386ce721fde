"""Install size and time by need: fresh virtual environments, one after the other, for `pip install -e .` (the
pipeline with PyTorch) and `pip install -e '.[all]'`, each in a temporary folder that is removed afterwards.

Usage: python benchmarks/install.py [--target . --target '.[all]'] [--python python3.11] [--json PATH]
Wall time counts creating the environment and installing (from pip's cache and the configured indexes, as a user's
install would); size is `du -sb` of the environment. Prints one figure per line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import typer
from figures import JSON_OPTION, Figures

REPO = Path(__file__).resolve().parents[1]


def folder_bytes(path: Path) -> int:
    return int(subprocess.run(["du", "-sb", str(path)], check=True, capture_output=True, text=True).stdout.split()[0])


def install(target: str, python: str, scratch: Path) -> tuple[float, int]:
    """Seconds to create an environment and install `target` into it, and the environment's size in bytes."""
    venv = scratch / "venv"
    start = time.perf_counter()
    subprocess.run([python, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "-e", target], check=True, cwd=REPO)
    seconds = time.perf_counter() - start
    size = folder_bytes(venv)
    shutil.rmtree(venv)
    return seconds, size


def main(target: list[str] = typer.Option([".", ".[all]"], help="pip install -e targets, in order"),
         python: str = typer.Option(sys.executable, help="interpreter the environments are created with"),
         json: Path = JSON_OPTION) -> None:
    figures = Figures(json, sections="pip install -e")
    for each in target:
        with tempfile.TemporaryDirectory(prefix="asl-install-") as scratch:
            seconds, size = install(each, python, Path(scratch))
        figures.section(each)
        figures.line("install_s", seconds, ".0f")
        figures.line("install_gb", size / 1e9, ".2f")
    figures.write()


if __name__ == "__main__":
    typer.run(main)
