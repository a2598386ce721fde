"""Optional dependency groups (pyproject's extras): import a module of one, or say which extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from asl.errors import AslError


def require(module: str, extra: str) -> ModuleType:
    """Import `module`, which the optional dependency group `extra` installs; an `AslError` naming the extra when
    it is not installed (a module that is installed but fails to import keeps its own error)."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or not (module == error.name or module.startswith(error.name + ".")):
            raise
        raise AslError(f"{module}: not installed; this needs the optional dependency group '{extra}': "
                       f"pip install -e '.[{extra}]'") from None
