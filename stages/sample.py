"""Stage `sample`: write the built-in sample dataset (params `sample`, `seed`) in the Kaggle asl-signs layout."""

from __future__ import annotations

from pathlib import Path

import typer

from asl.data.sample import SAMPLE_DIR, generate_sample
from asl.errors import exit_on_user_error
from asl.params import load_params
from asl.logs import quiet_libraries

quiet_libraries()  # before any library that logs at import

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(
    params: Path = typer.Option(Path("params.yaml"), help="The params file."),
    out: Path = typer.Option(SAMPLE_DIR, help="Folder to write the dataset into (replaced)."),
) -> None:
    """Generate the built-in sample dataset."""
    settings = load_params(params)
    generate_sample(out, settings.sample, settings.seed, settings.data.workers)


if __name__ == "__main__":
    app()
