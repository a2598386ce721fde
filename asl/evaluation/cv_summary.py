"""Participant cross-validation summary: mean ± standard deviation of every numeric eval.json metric over the
`group_kfold` fold experiments that DVC has recorded (`dvc exp show --json`), one block per setting."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from asl.errors import AslError
from asl.experiments import EVAL_FILE, PARAMS_FILE, flatten_params


@dataclass(frozen=True)
class FoldRun:
    name: str
    fold: int
    folds: int
    timestamp: str
    setting: str  # every param except split.fold, as JSON: runs of one cross-validation share it
    metrics: dict[str, float]  # the numeric top-level metrics of eval.json


def fold_runs(records: list[dict]) -> list[FoldRun]:
    """The finished experiments run with split.strategy=group_kfold that have an eval.json."""
    runs = []
    for baseline in records:
        for experiment in baseline.get("experiments") or []:
            revision = (experiment.get("revs") or [{}])[0]
            data = revision.get("data") or {}
            params = ((data.get("params") or {}).get(PARAMS_FILE) or {}).get("data") or {}
            metrics = ((data.get("metrics") or {}).get(EVAL_FILE) or {}).get("data")
            split = params.get("split") or {}
            if revision.get("error") or not metrics or split.get("strategy") != "group_kfold":
                continue
            setting = {**params, "split": {key: value for key, value in split.items() if key != "fold"}}
            numbers = {key: float(value) for key, value in metrics.items()
                       if isinstance(value, (int, float)) and not isinstance(value, bool)}
            runs.append(FoldRun(revision.get("name") or revision["rev"][:7], int(split["fold"]), int(split["folds"]),
                                data.get("timestamp") or "", json.dumps(setting, sort_keys=True), numbers))
    return runs


def summarise(runs: list[FoldRun]) -> str:
    """One block per setting: which folds were found, then `metric  mean ± std` (sample std over folds)."""
    if not runs:
        raise AslError("no finished group_kfold experiment found in `dvc exp show`; run the folds first (README: "
                       "participant cross-validation)")
    settings = sorted({run.setting for run in runs})
    differing = _differing_params([json.loads(setting) for setting in settings])
    blocks = []
    for setting, differs in zip(settings, differing):
        latest: dict[int, FoldRun] = {}
        for run in sorted((r for r in runs if r.setting == setting), key=lambda r: r.timestamp):
            latest[run.fold] = run  # a fold run twice with the same params: the newest counts
        found = [latest[fold] for fold in sorted(latest)]
        folds = found[0].folds
        lines = [f"{len(found)} of {folds} folds ({json.loads(setting)['model']}{differs}): "
                 + ", ".join(f"fold {run.fold} = {run.name}" for run in found)]
        missing = sorted(set(range(folds)) - set(latest))
        if missing:
            lines.append(f"missing folds: {', '.join(map(str, missing))}")
        for key in sorted(set.intersection(*(set(run.metrics) for run in found))):
            values = np.array([run.metrics[key] for run in found])
            spread = f"{values.std(ddof=1):.4f}" if len(values) > 1 else "n/a"
            lines.append(f"{key:<24} {values.mean():.4f} ± {spread}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _differing_params(settings: list[dict]) -> list[str]:
    """Per setting, `; key=value` for the params in which the settings differ ("" when there is one)."""
    flat = [flatten_params(setting) for setting in settings]
    keys = sorted({key for params in flat for key in params if len({p.get(key) for p in flat}) > 1})
    return ["".join(f"; {key}={params.get(key)}" for key in keys) for params in flat]
