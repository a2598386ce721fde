"""Stage `preprocess`: the store, every kept frame of every usable recording in one memory-mappable array, plus
its metadata (offset and length of each recording)."""

from pathlib import Path

import typer

from asl.data.clean import read_recordings
from asl.data.preprocess import preprocess_dataset
from asl.data.raw import read_sign_map
from asl.errors import exit_on_user_error
from asl.io import write_csv, write_json
from asl.params import load_params
from asl.logs import quiet_libraries

quiet_libraries()  # before any library that logs at import

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    raw_dir: Path = typer.Option(..., help="Kaggle asl-signs folder the index refers to"),
    recordings: Path = typer.Option(..., help="recordings.csv of the clean stage (rows without a problem are used)"),
    params: Path = typer.Option(Path("params.yaml")),
    values: Path = typer.Option(..., help="output .npy array (total frames, landmarks, coordinates)"),
    meta: Path = typer.Option(..., help="output CSV, one row per sequence in array order"),
    sign_map: Path = typer.Option(..., help="output copy of the sign map the labels refer to"),
) -> None:
    config = load_params(params)
    listed = read_recordings(recordings)
    index = listed[listed["problem"] == ""].reset_index(drop=True)
    labels = read_sign_map(raw_dir)
    table = preprocess_dataset(index, raw_dir, labels, config.preprocess, tuple(config.data.coordinates),
                               config.data.workers, values)
    write_csv(table, meta)
    write_json(labels, sign_map)
    typer.echo(f"stored {len(table)} recordings, {int(table['length'].sum())} frames "
               f"({values.stat().st_size / 2**20:.1f} MiB); {int(table['dropped_frames'].sum())} frames dropped "
               f"({config.preprocess.drop_frames})")


if __name__ == "__main__":
    app()
