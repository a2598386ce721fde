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


def training_data_note(extras: dict) -> str | None:
    """A note for predictions when the checkpoint (its recorded `extras`) was trained on the built-in synthetic
    sample (`data.raw_dir` is the sample stage's output folder) rather than real data, naming the sample's signs
    (`sample.signs`: a list, or a number of them); None otherwise or unknown."""
    from asl.data.sample import SAMPLE_DIR

    raw_dir = ((extras.get("params") or {}).get("data") or {}).get("raw_dir")
    if raw_dir is None or Path(raw_dir).parts[-len(SAMPLE_DIR.parts):] != SAMPLE_DIR.parts:
        return None
    signs = (extras.get("params") or {}).get("sample", {}).get("signs", len(extras.get("signs", [])))
    known = f"{len(signs)} signs: {', '.join(map(str, signs))}" if isinstance(signs, list) else f"{signs} signs"
    return f"note: this checkpoint was trained on the built-in synthetic sample ({known}): it knows only those"
