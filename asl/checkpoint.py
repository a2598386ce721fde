"""The train stage's checkpoint folder: its model file per framework, and finding it (below training and inference,
which both need it)."""

from __future__ import annotations

from pathlib import Path

from asl.errors import AslError

#: The model file the train stage writes into its checkpoint folder, per framework.
CHECKPOINT_FILES = {"pytorch": "model.pt", "tensorflow": "model.keras"}


def find_checkpoint(path: Path) -> Path:
    """The model file of a checkpoint folder written by the train stage, or `path` itself when it is a file."""
    path = Path(path)
    if path.is_dir():
        found = [path / name for name in CHECKPOINT_FILES.values() if (path / name).is_file()]
        if found:
            return max(found, key=lambda file: file.stat().st_mtime)  # the latest run's, if both are there
        raise AslError(f"{path}: no checkpoint in this folder (expected one of {', '.join(CHECKPOINT_FILES.values())})")
    if not path.is_file():
        raise AslError(f"{path}: checkpoint not found")
    return path
