"""Stage `train`: train the model named by `model` (and `framework`) on the training split."""

from pathlib import Path

import typer

from asl.check import check_params
from asl.data.processed import load_processed
from asl.errors import exit_on_user_error
from asl.params import load_params
from asl.training.run import train_model

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    values: Path = typer.Option(..., help="preprocessed .npy array"),
    meta: Path = typer.Option(..., help="its metadata CSV"),
    sign_map: Path = typer.Option(..., help="the sign map the labels refer to"),
    params: Path = typer.Option(Path("params.yaml")),
    checkpoint: Path = typer.Option(..., help="output: folder for the best epoch's checkpoint (model.pt for PyTorch)"),
    live_dir: Path = typer.Option(..., help="output: dvclive folder (metrics.json and per-epoch plots)"),
    tensorboard_dir: Path = typer.Option(..., help="output: TensorBoard logs"),
) -> None:
    config = load_params(params)
    check_params(config, where=str(params))  # before reading any data
    summary = train_model(config, load_processed(values, meta, sign_map), checkpoint, live_dir, tensorboard_dir)
    typer.echo(f"trained {config.model}: {summary}")


if __name__ == "__main__":
    app()
