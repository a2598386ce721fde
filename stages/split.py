"""Stage `split`: each recording's split, the quality rules on training rows, and the report of what was dropped."""

from pathlib import Path

import typer

from asl.data.clean import read_recordings
from asl.data.splits import split_recordings
from asl.errors import exit_on_user_error
from asl.io import write_csv, write_json
from asl.params import load_params
from asl.logs import quiet_libraries

quiet_libraries()  # before any library that logs at import

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    recordings: Path = typer.Option(..., help="recordings.csv of the clean stage"),
    params: Path = typer.Option(Path("params.yaml")),
    split: Path = typer.Option(..., help="output CSV: split and drop reason of every recording"),
    report: Path = typer.Option(..., help="output JSON: per split, rows kept and dropped per reason, examples"),
) -> None:
    config = load_params(params)
    result = split_recordings(read_recordings(recordings), config.split, config.clean, config.seed)
    write_csv(result.table, split)
    write_json(result.report, report)
    summary = {name: f"{part['kept']}/{part['rows']}" for name, part in result.report["splits"].items()}
    typer.echo(f"{config.split.strategy} split, recordings used/listed: {summary}")


if __name__ == "__main__":
    app()
