"""Loading the preprocess stage's outputs: the array, its metadata and the sign map, checked against each other."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from asl.data.preprocess import load_values
from asl.errors import AslError


@dataclass(frozen=True)
class ProcessedData:
    values: np.ndarray  # (N, frames, landmarks, coordinates), memory-mapped
    meta: pd.DataFrame  # one row per sequence: sequence_id, participant_id, sign, label, ...
    signs: list[str]  # sign name of each label (the sign map, inverted)

    @property
    def labels(self) -> np.ndarray:
        return self.meta["label"].to_numpy()


def load_processed(values_path: Path, meta_path: Path, sign_map_path: Path) -> ProcessedData:
    values = load_values(values_path)
    try:
        meta = pd.read_csv(meta_path, dtype={"participant_id": str, "sequence_id": str})
        sign_map = json.loads(Path(sign_map_path).read_text())
    except FileNotFoundError as error:
        raise AslError(f"{error.filename}: not found (run the preprocess stage first)") from None
    if len(meta) != len(values):
        raise AslError(f"{meta_path} has {len(meta)} rows but {values_path} holds {len(values)} sequences")
    if len(meta) == 0:
        raise AslError(f"{meta_path}: no sequences survived cleaning, nothing to train on")
    signs = [sign for sign, _ in sorted(sign_map.items(), key=lambda item: item[1])]
    return ProcessedData(values, meta, signs)
