"""Test accuracy of registered models, as the pipeline measures it: the README's accuracy tables come from this.

Usage: python benchmarks/zoo_accuracy.py [--framework pytorch|tensorflow] [--model NAME ...] [--raw-dir DIR]
                                         [--set KEY=VALUE ...] [--seeds N]
Runs the stage scripts exactly as `dvc repro` / `dvc exp run -S model=<Name>` would, on params.yaml with only
`--set` values (YAML, e.g. `--set 'split.test_participants=[30680, 53618]'`), `model` and `framework` changed:
clean, preprocess and split once (of `--raw-dir`, default `data.raw_dir`), then train and evaluate per model, all in a
scratch folder removed at the end. Prints one Markdown table row per model: test accuracy with its 95% interval
(bootstrap over test participants), macro F1, the test recordings and participants, and the wall time of train +
evaluate. With `--seeds N` above 1, each model also trains and is evaluated with `seed` + 1, ..., `seed` + N - 1 (the
same data and split: only training's randomness changes), and its row adds the test accuracy's mean and range over
the N runs: how far apart runs that differ only by chance land, the noise any one figure carries.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

import typer
from figures import JSON_OPTION, Figures
import yaml

from asl.models.registry import model_names

REPO = Path(__file__).resolve().parents[1]
app = typer.Typer(add_completion=False)


def run_stage(stage: str, *arguments: str | Path, environment: dict[str, str] | None = None) -> None:
    """Run a stage script; `environment`: variables set for it on top of this process's."""
    result = subprocess.run([sys.executable, str(REPO / "stages" / f"{stage}.py"), *map(str, arguments)],
                            cwd=REPO, capture_output=True, text=True, env={**os.environ, **(environment or {})})
    if result.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{result.stderr[-2000:]}")


def with_settings(params: dict, settings: list[str]) -> dict:
    """params.yaml with `KEY=VALUE` settings applied (dotted keys, YAML values), as `dvc exp run -S` does."""
    for setting in settings:
        key, _, value = setting.partition("=")
        *sections, last = key.split(".")
        target = params
        for section in sections:
            target = target[section]
        if last not in target:
            raise SystemExit(f"--set {setting}: {key} is not a key of params.yaml")
        target[last] = yaml.safe_load(value)
    return params


def prepare(raw_dir: Path, params: Path, work: Path) -> list[str]:
    """clean, preprocess and split into `work`; returns the data options of train and evaluate."""
    run_stage("clean", "--params", params, "--raw-dir", raw_dir, "--recordings", work / "recordings.csv",
              "--sign-stats", work / "sign_stats.csv", "--landmark-means", work / "means.csv")
    data = ["--values", work / "landmarks.npy", "--meta", work / "meta.csv", "--sign-map", work / "sign_map.json"]
    run_stage("preprocess", "--params", params, "--raw-dir", raw_dir, "--recordings", work / "recordings.csv", *data)
    run_stage("split", "--params", params, "--recordings", work / "recordings.csv", "--split", work / "split.csv",
              "--report", work / "clean_report.json")
    return [*map(str, data), "--split", str(work / "split.csv")]


def score(params: dict, raw_dir: Path, data: list[str], work: Path,
          environment: dict[str, str] | None = None) -> tuple[dict, float]:
    """Train and evaluate one model with the stage scripts (with `environment` set for both); returns eval.json and
    the seconds both took. The checkpoint is `work`/best."""
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    start = time.perf_counter()
    run_stage("train", "--params", work / "params.yaml", *data, "--checkpoint", work / "best", "--live-dir",
              work / "dvclive", "--tensorboard-dir", work / "runs", environment=environment)
    run_stage("evaluate", "--params", work / "params.yaml", "--checkpoint", work / "best", *data, "--raw-dir", raw_dir,
              "--metrics", work / "eval.json", "--robustness", work / "robustness.json", "--predictions",
              work / "predictions.csv", "--unscorable", work / "unscorable.csv", "--report", work / "report.txt",
              environment=environment)
    return json.loads((work / "eval.json").read_text()), time.perf_counter() - start


@app.command()
def main(
    framework: str = typer.Option("pytorch", help="pytorch or tensorflow"),
    model: Optional[list[str]] = typer.Option(None, help="models to score (default: every registered one)"),
    raw_dir: Optional[Path] = typer.Option(None, help="Kaggle-layout folder (default: params' data.raw_dir)"),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="KEY=VALUE of params.yaml (YAML value)"),
    seeds: int = typer.Option(1, min=1, help="training seeds per model: seed, seed + 1, ... (above 1: the spread)"),
    json_path: Path = JSON_OPTION,
) -> None:
    params = with_settings(yaml.safe_load((REPO / "params.yaml").read_text()), set_ or [])
    raw_dir = (REPO / (raw_dir or params["data"]["raw_dir"])).resolve()
    print(f"| model ({framework}) | test accuracy [95% interval] | macro F1 | test recordings (participants) "
          "| train + evaluate |")
    print("| --- | --- | --- | --- | --- |")
    figures = Figures(json_path, sections="model")
    with tempfile.TemporaryDirectory(prefix="zoo-") as scratch:
        work = Path(scratch)
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        data = prepare(raw_dir, work / "params.yaml", work)
        for name in model or model_names(framework):
            run = work / name
            run.mkdir()
            model_params = {**params, "model": name, "framework": framework}
            metrics, seconds = score(model_params, raw_dir, data, run)
            interval = metrics["accuracy_ci95"]
            shown = "n/a (one test participant)" if interval is None else f"[{interval[0]:.3f}, {interval[1]:.3f}]"
            print(f"| `{name}` | {metrics['accuracy']:.3f} {shown} | {metrics['f1_macro']:.3f} "
                  f"| {metrics['n_test']} ({len(metrics['per_participant'])}) | {seconds:.0f} s |", flush=True)
            row = {"test_accuracy": round(metrics["accuracy"], 3), "interval_95": shown,
                   "f1_macro": round(metrics["f1_macro"], 3), "test_recordings": metrics["n_test"],
                   "test_participants": len(metrics["per_participant"]), "train_plus_evaluate_s": round(seconds)}
            if seeds > 1:
                reruns = [score({**model_params, "seed": params["seed"] + offset}, raw_dir, data, seed_run(run, offset))
                          for offset in range(1, seeds)]
                accuracies = [metrics["accuracy"]] + [rerun["accuracy"] for rerun, _ in reruns]
                row |= {"seeds": seeds, "seeds_accuracy_mean": round(statistics.mean(accuracies), 3),
                        "seeds_accuracy_range": f"[{min(accuracies):.3f}, {max(accuracies):.3f}]"}
                print(f"  {name} over seeds {params['seed']}..{params['seed'] + seeds - 1}: test accuracy "
                      + ", ".join(f"{accuracy:.3f}" for accuracy in accuracies), flush=True)
            figures.row(name, row)
            figures.write()  # after every model: a long run keeps what it measured


def seed_run(run: Path, offset: int) -> Path:
    """The folder of a model's run with `seed` + `offset`."""
    folder = run / f"seed+{offset}"
    folder.mkdir()
    return folder


if __name__ == "__main__":
    app()
