"""Options several `asl` commands share, defined once (typer `Annotated` aliases; each command gives the default)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

CheckpointOption = Annotated[Path, typer.Option(help="the train stage's checkpoint folder, or a model file")]
TorchDeviceOption = Annotated[str, typer.Option(help="torch device for the model: cpu, cuda or auto")]
JsonOption = Annotated[bool, typer.Option("--json", help="print the predictions as JSON")]
ParamsOption = Annotated[Path, typer.Option(help="params file")]
ValuesOption = Annotated[Path, typer.Option(help="the preprocess stage's store (preprocessed array)")]
MetaOption = Annotated[Path, typer.Option(help="metadata CSV of the preprocessed sequences")]
