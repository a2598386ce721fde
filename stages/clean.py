"""Stage `clean`: the index of rows to keep, the drop report, per-sign length statistics and landmark means."""

from pathlib import Path

import typer

from asl.data.clean import clean
from asl.data.extra import read_training_index
from asl.errors import exit_on_user_error
from asl.io import write_csv, write_json
from asl.params import load_params

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    raw_dir: Path = typer.Option(..., help="Kaggle asl-signs folder (train.csv, sign map, train_landmark_files/)"),
    params: Path = typer.Option(Path("params.yaml")),
    kept: Path = typer.Option(..., help="CSV index of the rows kept"),
    report: Path = typer.Option(..., help="JSON report: counts per drop reason and examples"),
    sign_stats: Path = typer.Option(..., help="CSV of sequence length statistics per sign"),
    landmark_means: Path = typer.Option(..., help="CSV of average landmark positions per sign"),
) -> None:
    config = load_params(params)
    index = read_training_index(raw_dir, config.data.extra_raw_dirs)  # data.extra_raw_dirs: training only
    result = clean(index, raw_dir, config.clean, tuple(config.data.coordinates), config.data.workers)
    write_csv(result.kept, kept)
    write_csv(result.sign_stats, sign_stats)
    write_csv(result.sign_landmark_means, landmark_means)
    write_json(result.report, report)
    typer.echo(f"kept {result.report['n_kept']} of {result.report['n_index_rows']} rows; dropped {result.report['dropped']}")


if __name__ == "__main__":
    app()
