"""Report stage: metrics, predictions, training log, data and cleaning summaries → report.md and its figures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from asl.errors import exit_on_user_error
from asl.evaluation.report import load_report_inputs, write_report
from asl.params import load_params
from asl.logs import quiet_libraries

quiet_libraries()  # before any library that logs at import

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    eval_path: Annotated[Path, typer.Option("--eval", help="metrics JSON written by the evaluate stage")],
    predictions: Annotated[Path, typer.Option(help="per-sequence test predictions CSV")],
    train_log: Annotated[Path, typer.Option(help="dvclive folder of the train stage")],
    meta: Annotated[Path, typer.Option(help="metadata CSV of the preprocessed sequences")],
    clean_report: Annotated[Path, typer.Option(help="clean_report.json of the split stage")],
    robustness: Annotated[Path, typer.Option(help="robustness.json written by the evaluate stage")],
    out: Annotated[Path, typer.Option(help="folder for report.md and figures/")],
    values: Annotated[Optional[Path], typer.Option(help="preprocessed array: animates one sign in the report")] = None,
    params: Annotated[Path, typer.Option(help="params file (the title; the store's settings)")] = Path("params.yaml"),
) -> None:
    config = load_params(params)
    inputs = load_report_inputs(eval_path, predictions, train_log, meta, clean_report, robustness, values, config)
    title = f"ASL sign recognition report: {config.model} ({config.framework})"
    path = write_report(
        inputs.eval_metrics, inputs.predictions, inputs.history, inputs.meta, inputs.clean_report, inputs.robustness,
        out, title, inputs.values,
    )
    typer.echo(f"wrote {path}")


if __name__ == "__main__":
    app()
