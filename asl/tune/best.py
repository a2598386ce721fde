"""The best configuration of a search as a params fragment: `key.path: value` lines, `-S` strings, applying it.

The fragment goes back into the versioned pipeline either as `dvc exp run -S key=value ...` or merged into
params.yaml by `asl apply-params` (comments and layout of params.yaml are kept; the result is validated).
"""

from __future__ import annotations

import io
import math
import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from asl.errors import AslError
from asl.io import atomic_path
from asl.params import Yaml12Loader, load_params

HYDRA_KEYWORDS = {"true", "false", "null", "inf", "nan"}  # unquoted, Hydra reads these as values


def write_best_params(overrides: dict[str, Any], path: str | Path, header: str) -> Path:
    """Write `overrides` as a YAML mapping of dotted params keys, with `header` as comment lines."""
    path = Path(path)
    comments = "".join(f"# {line}\n" for line in header.splitlines())
    body = yaml.safe_dump({key: _plain(value) for key, value in overrides.items()}, sort_keys=False)
    with atomic_path(path) as temporary:
        temporary.write_text(comments + body)
    return path


def read_best_params(path: str | Path) -> dict[str, Any]:
    """A fragment written by `write_best_params` (or by hand): {dotted key: value}."""
    path = Path(path)
    try:
        fragment = yaml.load(path.read_text(), Loader=Yaml12Loader)  # as params.yaml is read
    except FileNotFoundError:
        raise AslError(f"{path}: params fragment not found (run `asl tune` first)") from None
    except yaml.YAMLError as error:
        raise AslError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(fragment, dict) or not fragment:
        raise AslError(f"{path}: expected a mapping of params keys to values, like `augment.probability: 0.2`")
    return fragment


def dvc_set_arguments(overrides: dict[str, Any]) -> list[str]:
    """`key=value` strings for `dvc exp run -S` (Hydra override syntax, which DVC parses)."""
    return [f"{key}={_override_value(value)}" for key, value in overrides.items()]


def dvc_command(overrides: dict[str, Any]) -> str:
    """The `dvc exp run` command line that applies `overrides`."""
    return " ".join(["dvc exp run", *(f"-S {shlex.quote(argument)}" for argument in dvc_set_arguments(overrides))])


def apply_params(fragment_path: str | Path, params_path: str | Path = "params.yaml") -> dict[str, Any]:
    """Merge a fragment into params.yaml, keeping its comments; validated before the file is replaced."""
    from ruamel.yaml import YAML

    overrides = read_best_params(fragment_path)
    params_path = Path(params_path)
    loader = YAML()  # round-trip: keeps comments, order and flow style
    loader.preserve_quotes = True
    loader.width = 4096  # long flow mappings (tune.space) stay on one line
    try:
        document = loader.load(params_path.read_text())
    except FileNotFoundError:
        raise AslError(f"{params_path}: params file not found") from None
    for key, value in overrides.items():
        _set_existing(document, key, value, fragment_path)
    buffer = io.StringIO()
    loader.dump(document, buffer)
    with atomic_path(params_path) as temporary:
        temporary.write_text(buffer.getvalue())
        load_params(temporary)  # a bad value stops here and params.yaml is left as it was
    return overrides


def _set_existing(document: Any, key: str, value: Any, source: str | Path) -> None:
    node = document
    *parents, last = key.split(".")
    for part in parents:
        if not hasattr(node, "get") or part not in node:
            raise AslError(f"{source}: unknown parameter {key!r} (not a key of params.yaml)")
        node = node[part]
    if not hasattr(node, "get") or last not in node:
        raise AslError(f"{source}: unknown parameter {key!r} (not a key of params.yaml)")
    node[last] = value


def _plain(value: Any) -> Any:
    """numpy scalars (what Ray's samplers return) as Python values."""
    return value.item() if hasattr(value, "item") else value


def _override_value(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if re.fullmatch(r"[A-Za-z_][\w./-]*", value) and value.lower() not in HYDRA_KEYWORDS:
            return value  # a plain name such as a model or an optimizer
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    raise AslError(f"cannot write {value!r} as a dvc -S value")
