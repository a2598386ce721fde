"""DVC's experiment records (`dvc exp show --json`), and `asl exps`: one line per experiment with only the params
it changed from its baseline and its test accuracy with the 95% interval, narrow enough for a 100-column terminal."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from asl.errors import AslError

PARAMS_FILE = "params.yaml"
EVAL_FILE = "metrics/eval.json"
WIDTH = 100
NAME_WIDTH = 22


@dataclass(frozen=True)
class ExperimentRow:
    name: str  # "workspace", a baseline's branch (or short commit), or an experiment's name, indented below it
    status: str  # "" once finished; otherwise DVC's state of the run: queued, running, failed
    accuracy: float | None
    ci95: tuple[float, float] | None  # none with one test participant (the bootstrap resamples participants)
    changed: list[str]  # `key=value` for every param that differs from the baseline


def experiment_records(repo: Path) -> list[dict]:
    """`dvc exp show --json` of the repository: its baselines with their experiments."""
    result = subprocess.run([sys.executable, "-m", "dvc", "exp", "show", "--json"], cwd=repo, capture_output=True,
                            text=True)
    if result.returncode != 0:
        raise AslError(f"{repo}: `dvc exp show --json` failed: {result.stderr.strip()[-500:]}")
    return json.loads(result.stdout)


def flatten_params(params: dict, prefix: str = "") -> dict[str, str]:
    """Nested params as `{"a.b": JSON text of the value}`."""
    flat = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        flat.update(flatten_params(value, f"{name}.") if isinstance(value, dict) else {name: json.dumps(value)})
    return flat


def experiment_rows(records: list[dict]) -> list[ExperimentRow]:
    """The workspace (against the commit it is on), each baseline commit, and below it each of its experiments."""
    commits = [record for record in records if record.get("rev") != "workspace"]
    rows = []
    for record in records:
        if record.get("rev") == "workspace":
            rows.append(_row("workspace", record, commits[0] if commits else record, ""))
            continue
        rows.append(_row(record.get("name") or record["rev"][:7], record, record, ""))
        for experiment in record.get("experiments") or []:
            revision = (experiment.get("revs") or [{}])[0]
            state = (experiment.get("executor") or {}).get("state") or ("failed" if revision.get("error") else "")
            name = experiment.get("name") or revision.get("name") or revision["rev"][:7]
            rows.append(_row(f"  {name}", revision, record, "" if state == "success" else state))
    return rows


def render_rows(rows: list[ExperimentRow]) -> str:
    """A table: name, accuracy (or the run's state), 95% interval, then the changed params, wrapped to WIDTH."""
    head = f"{'experiment':<{NAME_WIDTH}}  {'accuracy':>8}  {'95% CI':<16}  "
    lines = [head + "changed params"]
    for row in rows:
        name = row.name if len(row.name) <= NAME_WIDTH else row.name[:NAME_WIDTH - 1] + "…"
        accuracy = row.status or ("-" if row.accuracy is None else f"{row.accuracy:.4f}")
        interval = "" if row.ci95 is None or row.status else f"[{row.ci95[0]:.4f}, {row.ci95[1]:.4f}]"
        start = f"{name:<{NAME_WIDTH}}  {accuracy:>8}  {interval:<16}  "
        changed = textwrap.wrap(" ".join(row.changed), WIDTH - len(head), break_on_hyphens=False) or [""]
        lines += [(start + changed[0]).rstrip(), *(" " * len(head) + more for more in changed[1:])]
    return "\n".join(lines)


def _row(name: str, revision: dict, baseline: dict, status: str) -> ExperimentRow:
    params, metrics = _params(revision), _eval_metrics(revision)
    reference = _params(baseline)
    changed = [f"{key}={_shown(params.get(key))}" for key in sorted(params.keys() | reference.keys())
               if params.get(key) != reference.get(key)]
    low, high = metrics.get("accuracy_ci95_low"), metrics.get("accuracy_ci95_high")
    return ExperimentRow(name, status, metrics.get("accuracy"), None if low is None or high is None else (low, high),
                         changed)


def _params(revision: dict) -> dict[str, str]:
    data = revision.get("data") or {}
    return flatten_params(((data.get("params") or {}).get(PARAMS_FILE) or {}).get("data") or {})


def _eval_metrics(revision: dict) -> dict:
    data = revision.get("data") or {}
    return ((data.get("metrics") or {}).get(EVAL_FILE) or {}).get("data") or {}


def _shown(value: str | None) -> str:
    """A flattened value as typed on `dvc exp run -S`: strings without quotes; `(unset)` for a missing key."""
    if value is None:
        return "(unset)"
    parsed = json.loads(value)
    return parsed if isinstance(parsed, str) else json.dumps(parsed, separators=(",", ":"))  # no space in a list
