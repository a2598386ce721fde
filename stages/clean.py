"""Stage `clean`: every recording of the index with its file-level problem (if any), per-sign length statistics
and landmark means."""

from pathlib import Path

import typer

from asl.data.clean import scan_recordings
from asl.data.extra import read_training_index
from asl.data.raw import read_sign_map
from asl.errors import exit_on_user_error
from asl.io import write_csv
from asl.params import load_params
from asl.logs import quiet_libraries

quiet_libraries()  # before any library that logs at import

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    raw_dir: Path = typer.Option(..., help="Kaggle asl-signs folder (train.csv, sign map, train_landmark_files/)"),
    params: Path = typer.Option(Path("params.yaml")),
    recordings: Path = typer.Option(..., help="output CSV: one row per index row, its frame counts and problem"),
    sign_stats: Path = typer.Option(..., help="CSV of sequence length statistics per sign"),
    landmark_means: Path = typer.Option(..., help="CSV of average landmark positions per sign"),
) -> None:
    config = load_params(params)
    index = read_training_index(raw_dir, config.data.extra_raw_dirs)  # data.extra_raw_dirs: training only
    result = scan_recordings(index, raw_dir, read_sign_map(raw_dir), tuple(config.data.coordinates),
                             config.data.workers)
    write_csv(result.sign_stats, sign_stats)
    write_csv(result.sign_landmark_means, landmark_means)
    write_csv(result.recordings, recordings)
    problems = result.recordings["problem"]
    typer.echo(f"{int((problems == '').sum())} of {len(problems)} recordings usable; "
               f"problems: {problems[problems != ''].value_counts().to_dict()}")


if __name__ == "__main__":
    app()
