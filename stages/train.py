"""Stage `train`: train the model named by `model` (and `framework`) on the training split."""

from pathlib import Path
from typing import Optional

import typer

from asl.check import check_params
from asl.data.processed import load_processed
from asl.errors import AslError, exit_on_user_error
from asl.params import load_params
from asl.training.logging import clear_tensorboard_logs
from asl.training.run import train_model
from asl.logs import quiet_libraries

quiet_libraries()  # before any library that logs at import

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    values: Path = typer.Option(..., help="preprocessed .npy array"),
    meta: Path = typer.Option(..., help="its metadata CSV"),
    sign_map: Path = typer.Option(..., help="the sign map the labels refer to"),
    split: Path = typer.Option(..., help="split.csv of the split stage"),
    params: Path = typer.Option(Path("params.yaml")),
    checkpoint: Path = typer.Option(..., help="output: folder for the best epoch's checkpoint (model.pt for PyTorch)"),
    live_dir: Path = typer.Option(..., help="output: dvclive folder (metrics.json and per-epoch plots)"),
    tensorboard_dir: Path = typer.Option(..., help="output: TensorBoard logs (not a DVC output: this run's only, "
                                         "earlier ones removed unless train.resume)"),
    state_dir: Optional[Path] = typer.Option(None, help="output: the resumable training state, saved every epoch "
                                             "(kept by DVC between runs: train.resume: true continues from it)"),
) -> None:
    config = load_params(params)
    check_params(config, where=str(params))  # before reading any data
    if state_dir is None and config.train.resume:
        raise AslError("train.resume: true needs --state-dir, the folder of the saved training state")
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)  # a DVC output even for the trainers that save no state
    if not config.train.resume:
        clear_tensorboard_logs(tensorboard_dir)
    summary = train_model(config, load_processed(values, meta, sign_map, split), checkpoint, live_dir, tensorboard_dir,
                          state_dir=state_dir)
    typer.echo(f"trained {config.model}: {summary}")


if __name__ == "__main__":
    app()
