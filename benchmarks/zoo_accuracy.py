"""Test accuracy of every registered model on the pipeline's data: the README's model tables come from this.

Usage: python benchmarks/zoo_accuracy.py [--framework pytorch|tensorflow] [--model NAME ...]
Runs the train and evaluate stages exactly as `dvc exp run -S model=<Name>` would (their scripts, on a copy of
params.yaml with only `model` and `framework` changed), on the outputs of `dvc repro` (data/processed and
data/interim/split.csv), each in a scratch folder that is removed afterwards. Prints one Markdown table row per model:
test accuracy with its 95% interval (bootstrap over test participants), macro F1, the number of test recordings,
and the wall time of train + evaluate.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer
import yaml

from asl.models.registry import model_names

REPO = Path(__file__).resolve().parents[1]
app = typer.Typer(add_completion=False)


def run_stage(stage: str, *arguments: str | Path) -> None:
    result = subprocess.run([sys.executable, str(REPO / "stages" / f"{stage}.py"), *map(str, arguments)],
                            cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{result.stderr[-2000:]}")


def score(model: str, framework: str, params: dict, work: Path) -> tuple[dict, float]:
    """Train and evaluate one model with the stage scripts; returns eval.json and the seconds both took."""
    (work / "params.yaml").write_text(yaml.safe_dump({**params, "model": model, "framework": framework},
                                                     sort_keys=False))
    data = ["--values", "data/processed/landmarks.npy", "--meta", "data/processed/meta.csv",
            "--sign-map", "data/processed/sign_map.json", "--split", "data/interim/split.csv"]
    start = time.perf_counter()
    run_stage("train", "--params", work / "params.yaml", *data, "--checkpoint", work / "best", "--live-dir",
              work / "dvclive", "--tensorboard-dir", work / "runs")
    run_stage("evaluate", "--params", work / "params.yaml", "--checkpoint", work / "best", *data, "--raw-dir",
              params["data"]["raw_dir"], "--metrics", work / "eval.json", "--robustness", work / "robustness.json",
              "--predictions", work / "predictions.csv", "--unscorable", work / "unscorable.csv",
              "--report", work / "report.txt")
    return json.loads((work / "eval.json").read_text()), time.perf_counter() - start


@app.command()
def main(
    framework: str = typer.Option("pytorch", help="pytorch or tensorflow"),
    model: Optional[list[str]] = typer.Option(None, help="models to score (default: every registered one)"),
) -> None:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    print(f"| model ({framework}) | test accuracy [95% interval] | macro F1 | test recordings | train + evaluate |")
    print("| --- | --- | --- | --- | --- |")
    for name in model or model_names(framework):
        with tempfile.TemporaryDirectory(prefix="zoo-") as work:
            metrics, seconds = score(name, framework, params, Path(work))
        low, high = metrics["accuracy_ci95"]
        print(f"| `{name}` | {metrics['accuracy']:.3f} [{low:.3f}, {high:.3f}] | {metrics['f1_macro']:.3f} "
              f"| {metrics['n_test']} | {seconds:.0f} s |", flush=True)


if __name__ == "__main__":
    app()
