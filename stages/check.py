"""Stage `check`: validate params.yaml (every problem at once) before any other stage does work.

Every other stage depends on its output, so a bad value stops `dvc repro` here, before any output is removed.
"""

from pathlib import Path

import typer

from asl.check import check_params
from asl.errors import exit_on_user_error
from asl.io import atomic_path
from asl.params import load_params
from asl.logs import quiet_libraries

quiet_libraries()  # before any library that logs at import

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(params: Path = typer.Option(Path("params.yaml")),
         out: Path = typer.Option(..., help="output: written only when the params are valid")) -> None:
    config = load_params(params)
    check_params(config, Path(config.data.raw_dir), str(params))
    with atomic_path(out) as temporary:
        temporary.write_text("params checked\n")  # the same text every time: stages downstream do not rerun for it
    typer.echo(f"{params}: ok ({config.framework} {config.model})")


if __name__ == "__main__":
    app()
