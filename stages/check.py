"""Stage `check`: validate params.yaml and the model selection before any other stage does work."""

from pathlib import Path

import typer

from asl.data.splits import split_problems
from asl.errors import AslError, exit_on_user_error
from asl.params import load_params
from asl.training.run import check_selection

app = typer.Typer(add_completion=False)


@app.command()
@exit_on_user_error
def main(params: Path = typer.Option(Path("params.yaml"))) -> None:
    config = load_params(params)
    check_selection(config)
    problems = split_problems(config.split)
    if problems:
        raise AslError(f"{params}: " + "; ".join(problems))
    typer.echo(f"{params}: ok ({config.framework} {config.model})")


if __name__ == "__main__":
    app()
