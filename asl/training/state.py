"""Training state that survives a kill: the native PyTorch trainer saves it after every completed epoch, so
`train.resume: true` continues an interrupted run from its last completed epoch to the same end as an
uninterrupted one.

The state lives outside the train stage's cached outputs (DVC deletes those before a stage runs): the train
stage's `--state-dir` (models/train_state, `persist: true` in dvc.yaml).
"""

from __future__ import annotations

import dataclasses
import random
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from asl.errors import warn
from asl.io import atomic_path
from asl.params import Params

STATE_FILE = "state.pt"


@dataclass
class RunRecord:
    """What a run has done so far besides its weights: each epoch's logged metrics, the summary, the best epoch."""

    history: list[tuple[int, dict, float]] = field(default_factory=list)  # (epoch, metrics by split, learning rate)
    summary: dict = field(default_factory=dict)
    best: dict | None = None  # the best epoch's model state_dict and checkpoint extras
    epochs_run: int = 0


def run_identity(params: Params, values_shape: tuple, labels: np.ndarray, rows: list[np.ndarray]) -> dict:
    """What must match for a saved state to be resumed: every param but `train.resume`, and the data."""
    settings = dataclasses.asdict(params)
    settings["train"].pop("resume")
    data = zlib.crc32(b"".join(np.ascontiguousarray(a).tobytes() for a in (labels, *rows)))
    return {"params": settings, "data": [list(values_shape), data]}


def random_states(generator: torch.Generator) -> dict:
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "loader": generator.get_state()}


def restore_random_states(states: dict, generator: torch.Generator) -> None:
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if states["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    generator.set_state(states["loader"])


def save_state(path: Path, identity: dict, epoch: int, trainer: dict[str, Any], record: RunRecord,
               generator: torch.Generator, finished: bool = False) -> None:
    """Everything needed to continue after `epoch`: `trainer` names the objects with a `state_dict()` (model,
    optimizer, scheduler, early stopping)."""
    state = {"identity": identity, "epoch": epoch, "finished": finished, "record": dataclasses.asdict(record),
             "random": random_states(generator), **{name: part.state_dict() for name, part in trainer.items()}}
    with atomic_path(path) as temporary:
        torch.save(state, temporary)


def load_state(path: Path, identity: dict) -> dict | None:
    """The saved state of the same run (params and data), or None (with a warning when one is there but differs)."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)  # our own file: RNG states are not tensors
    except Exception as error:  # torch raises many types for a file that is not a state
        warn(f"{path}: not a readable training state ({error}); training from the start")
        return None
    if state.get("identity") != identity:
        warn(f"{path}: the saved training state is from other params or data; training from the start")
        return None
    return state


def record_from(state: dict) -> RunRecord:
    return RunRecord(**state["record"])
