"""Loading the preprocess stage's outputs (the store, its metadata, the sign map) and the split stage's table,
checked against each other."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from asl.data.preprocess import Store, open_store
from asl.errors import AslError


@dataclass(frozen=True)
class ProcessedData:
    store: Store  # every recording's stored frames, memory-mapped (model inputs: asl.data.inputs.StoreInputs)
    meta: pd.DataFrame  # one row per recording: sequence_id, participant_id, sign, label, offset, length, ...
    signs: list[str]  # sign name of each label (the sign map, inverted)
    split: np.ndarray  # per meta row: train, valid or test, or "" where the split stage dropped the recording

    @property
    def labels(self) -> np.ndarray:
        return self.meta["label"].to_numpy()


def load_processed(values_path: Path, meta_path: Path, sign_map_path: Path, split_path: Path) -> ProcessedData:
    try:
        meta = pd.read_csv(meta_path, dtype={"participant_id": str, "sequence_id": str})
        sign_map = json.loads(Path(sign_map_path).read_text())
        split_table = read_split_table(split_path)
    except FileNotFoundError as error:
        raise AslError(f"{error.filename}: not found (run the preprocess and split stages first)") from None
    store = open_store(values_path, meta, meta_path)
    if len(meta) == 0:
        raise AslError(f"{meta_path}: no sequences survived cleaning, nothing to train on")
    signs = [sign for sign, _ in sorted(sign_map.items(), key=lambda item: item[1])]
    return ProcessedData(store, meta, signs, split_of_rows(meta, split_table, meta_path, split_path))


def read_split_table(path: Path) -> pd.DataFrame:
    """The split stage's split.csv; ids, signs, reasons and details stay text."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def split_of_rows(meta: pd.DataFrame, split_table: pd.DataFrame, meta_path: Path | str = "meta.csv",
                  split_path: Path | str = "split.csv") -> np.ndarray:
    """The split of each meta row, joined on `path`: "" where the split stage dropped (or never listed) it."""
    used = split_table[split_table["dropped"] == ""].drop_duplicates("path").set_index("path")["split"]
    absent = used.index.difference(meta["path"])
    if len(absent):
        raise AslError(f"{split_path} uses {len(absent)} recording(s) that {meta_path} lacks, e.g. {absent[0]}: "
                       "they come from different runs (run `dvc repro`)")
    return meta["path"].map(used).fillna("").to_numpy(dtype=object)
