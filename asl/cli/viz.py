"""`asl viz distribution|animate|augmentations`: the seed's three visualisations from the pipeline's files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asl.cli.options import MetaOption, ParamsOption, ValuesOption
from asl.errors import exit_on_user_error

viz_app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)



@viz_app.command()
@exit_on_user_error
def distribution(
    out: Annotated[Path, typer.Option(help="PNG to write")] = Path("reports/viz/data_distribution.png"),
    meta: MetaOption = Path("data/processed/meta.csv"),
) -> None:
    """Samples per sign and mean sequence length per sign (bar charts)."""
    from asl.evaluation.plots import plot_data_distribution
    from asl.evaluation.report import load_meta

    typer.echo(f"wrote {plot_data_distribution(load_meta(meta), out)}")


@viz_app.command()
@exit_on_user_error
def animate(
    sign: Annotated[str, typer.Argument(help="the sign to show")],
    n: Annotated[int, typer.Option("-n", help="examples side by side")] = 4,
    out: Annotated[Path, typer.Option(help=".gif, or .mp4 (needs ffmpeg)")] = Path("reports/viz/sign.gif"),
    values: ValuesOption = Path("data/processed/landmarks.npy"),
    meta: MetaOption = Path("data/processed/meta.csv"),
    params: ParamsOption = Path("params.yaml"),
    seed: int = 0,
    fps: int = 10,
) -> None:
    """`n` examples of one sign, animated side by side."""
    from asl.evaluation.visualize import animate_sign
    from asl.params import load_params

    array, table = _load(values, meta, load_params(params))
    typer.echo(f"wrote {animate_sign(array, table, sign, n, out, seed, fps)}")


@viz_app.command()
@exit_on_user_error
def augmentations(
    sign: Annotated[str, typer.Argument(help="the sign to show")],
    n: Annotated[int, typer.Option("-n", help="augmented versions beside the original")] = 3,
    out: Annotated[Path, typer.Option(help=".gif, or .mp4 (needs ffmpeg)")] = Path("reports/viz/augmentations.gif"),
    values: ValuesOption = Path("data/processed/landmarks.npy"),
    meta: MetaOption = Path("data/processed/meta.csv"),
    params: ParamsOption = Path("params.yaml"),
    seed: int = 0,
    fps: int = 10,
) -> None:
    """One example of a sign beside `n` versions with every method of `augment.methods` applied."""
    from asl.evaluation.visualize import animate_augmentations
    from asl.params import load_params

    config = load_params(params)
    array, table = _load(values, meta, config)
    path = animate_augmentations(array, table, sign, n, config.augment, out, seed, fps, config.preprocess.normalization)
    typer.echo(f"wrote {path}")


def _load(values: Path, meta: Path, params):
    """The seed models' inputs of the store and its metadata, checked against each other."""
    from asl.data.inputs import seed_inputs
    from asl.evaluation.report import load_meta

    table = load_meta(meta)
    return seed_inputs(values, table, params, meta), table
