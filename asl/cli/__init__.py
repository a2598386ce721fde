"""The `asl` command: tools around the pipeline (the pipeline itself runs with `dvc repro`)."""

# One module per command group (predict, viz, tune, export); the options they share are in asl/cli/options.py.

from __future__ import annotations

from pathlib import Path

import typer

from asl.cli.export import export
from asl.cli.predict import extract, predict_app
from asl.cli.tune import apply_params, tune
from asl.cli.viz import viz_app
from asl.errors import AslError, exit_on_user_error
from asl.logs import quiet_libraries

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
app.command()(extract)
app.add_typer(predict_app, name="predict")
app.add_typer(viz_app, name="viz")
app.command()(tune)
app.command(name="apply-params")(apply_params)
app.command()(export)


@app.callback()
def main(verbose: bool = typer.Option(False, "--verbose", help="show the libraries' own logging (TensorFlow, "
                                      "MediaPipe, absl, Lightning); also ASL_VERBOSE=1")) -> None:
    """The `asl` command: tools around the pipeline (the pipeline itself runs with `dvc repro`)."""
    quiet_libraries(verbose)


@app.command()
@exit_on_user_error
def models(framework: str = typer.Option("pytorch", help="pytorch or tensorflow")) -> None:
    """List the registered model names of a framework (the values `model` in params.yaml accepts)."""
    from asl.models.registry import model_names

    for name in model_names(framework):
        typer.echo(name)


@app.command()
@exit_on_user_error
def validate(files: list[Path] = typer.Argument(..., help="landmark parquet files")) -> None:
    """Check landmark files against the Kaggle asl-signs schema; exit 1 if any fails."""
    from asl.data.raw import validate_landmark_file

    failures = 0
    for path in files:
        try:
            typer.echo(f"{path}: ok, {validate_landmark_file(path)} frames")
        except AslError as error:
            failures += 1
            typer.echo(f"error: {error}", err=True)
    if failures:
        raise AslError(f"{failures} of {len(files)} files failed validation")


@app.command(name="cv-summary")
@exit_on_user_error
def cv_summary(repo: Path = typer.Option(Path("."), help="the DVC repository whose experiments to read")) -> None:
    """Mean ± standard deviation of every numeric eval.json metric over the group_kfold fold experiments."""
    from asl.evaluation.cv_summary import fold_runs, summarise
    from asl.experiments import experiment_records

    typer.echo(summarise(fold_runs(experiment_records(repo))))


@app.command()
@exit_on_user_error
def exps(repo: Path = typer.Option(Path("."), help="the DVC repository whose experiments to list")) -> None:
    """Each DVC experiment: the params it changed from its baseline, and its test accuracy with the 95% interval."""
    from asl.experiments import experiment_records, experiment_rows, render_rows

    typer.echo(render_rows(experiment_rows(experiment_records(repo))))
