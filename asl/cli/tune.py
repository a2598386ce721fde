"""The `asl tune` and `asl apply-params` commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from asl.cli.options import MetaOption, ParamsOption, ValuesOption
from asl.errors import exit_on_user_error
from asl.params import load_params


@exit_on_user_error
def tune(
    trials: Annotated[Optional[int], typer.Option(help="number of trials (default: tune.trials)")] = None,
    address: Annotated[Optional[str], typer.Option(help="Ray cluster to join (default: a local Ray)")] = None,
    tracking_uri: Annotated[str, typer.Option(help="MLflow tracking URI or folder")] = "mlruns",
    params: ParamsOption = Path("params.yaml"),
    values: ValuesOption = Path("data/processed/landmarks.npy"),
    meta: MetaOption = Path("data/processed/meta.csv"),
    sign_map: Annotated[Path, typer.Option(help="sign map JSON")] = Path("data/processed/sign_map.json"),
    split: Annotated[Path, typer.Option(help="split.csv of the split stage")] = Path("data/interim/split.csv"),
    out: Annotated[Path, typer.Option(help="best params fragment to write")] = Path("tune/best_params.yaml"),
    storage: Annotated[Path, typer.Option(help="Ray Tune's results folder")] = Path("tune/ray"),
) -> None:
    """Search the selected model's `tune.space` with Ray Tune; write the best params and its `dvc exp run -S` line."""
    from asl.tune.best import dvc_command, write_best_params
    from asl.tune.search import DataPaths, run_search

    config = load_params(params)
    count = trials if trials is not None else (config.tune.trials if config.tune else 0)
    result = run_search(config, DataPaths(values, meta, sign_map, split), count, storage, tracking_uri, address)
    header = (f"best of {result.trials} trials of {config.model}: valid accuracy {result.best_accuracy:.4f} "
              f"(MLflow run {result.best_run_id})\napply with: asl apply-params {out}")
    write_best_params(result.best_config, out, header)
    typer.echo(f"best valid accuracy {result.best_accuracy:.4f}; wrote {out}")
    typer.echo(dvc_command(result.best_config))


@exit_on_user_error
def apply_params(
    fragment: Annotated[Path, typer.Argument(help="params fragment, e.g. tune/best_params.yaml")],
    params: Annotated[Path, typer.Option(help="params file to update")] = Path("params.yaml"),
) -> None:
    """Merge a params fragment (`key.path: value` lines) into params.yaml, validated, comments kept."""
    from asl.tune.best import apply_params as apply

    for key, value in apply(fragment, params).items():
        typer.echo(f"{key} = {value}")
