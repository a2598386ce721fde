"""Stage `evaluate`: score the best checkpoint on the test split."""

from pathlib import Path

import typer

from asl.data.processed import load_processed
from asl.errors import exit_on_user_error
from asl.evaluation.evaluate import evaluate
from asl.inference.predictor import load_predictor
from asl.io import atomic_path, write_csv, write_json
from asl.params import load_params

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    checkpoint: Path = typer.Option(..., help="the trained model: the train stage's checkpoint folder, or a model file"),
    values: Path = typer.Option(..., help="preprocessed .npy array"),
    meta: Path = typer.Option(..., help="its metadata CSV"),
    sign_map: Path = typer.Option(..., help="the sign map the labels refer to"),
    params: Path = typer.Option(Path("params.yaml")),
    metrics: Path = typer.Option(..., help="output: metrics JSON"),
    predictions: Path = typer.Option(..., help="output: one row per test sequence (also the confusion plot)"),
    report: Path = typer.Option(..., help="output: classification report (text)"),
) -> None:
    config = load_params(params)
    result = evaluate(load_predictor(checkpoint, config.train.device), load_processed(values, meta, sign_map), config)
    write_json(result.metrics, metrics)
    write_csv(result.predictions, predictions)
    with atomic_path(report) as temporary:
        temporary.write_text(result.report)
    typer.echo(f"test accuracy {result.metrics['accuracy']:.3f} on {result.metrics['n_test']} sequences "
               f"({result.metrics['split_strategy']} split)")


if __name__ == "__main__":
    app()
