"""The evaluation report: reads the pipeline's outputs, draws the figures and writes one Markdown page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from asl.data.inputs import seed_inputs
from asl.errors import AslError
from asl.evaluation import plots
from asl.io import atomic_path

EVAL_KEYS = (
    "accuracy",
    "accuracy_ci95",
    "top5_accuracy",
    "loss",
    "f1_macro",
    "precision_macro",
    "recall_macro",
    "auc_macro",
    "per_participant",
    "split_strategy",
    "n_test",
    "n_unscorable",
    "n_missing",
)
PREDICTION_COLUMNS = ("sequence_id", "participant_id", "actual", "predicted", "probability")
META_COLUMNS = ("sequence_id", "participant_id", "sign", "original_frames")
TEXT_COLUMNS = ("sequence_id", "participant_id", "sign", "actual", "predicted", "path")
CLEAN_REPORT_KEYS = ("n_index_rows", "n_kept", "dropped", "splits")
SPLIT_STRATEGIES = ("participant", "group_kfold", "random")
EXAMPLES_PER_REASON = 3
RANDOM_SPLIT_WARNING = (
    "**Warning:** a random split puts the same signers in training and test, "
    "which overstates accuracy on GISLR by about ten points compared with a signer-independent (participant) split."
)
FIGURES = {
    "data": "figures/data_distribution.png",
    "clean": "figures/clean_drops.png",
    "training": "figures/training_curves.png",
    "confusion": "figures/confusion_matrix.png",
    "per_sign": "figures/accuracy_per_sign.png",
}
ANIMATION = "figures/sign_animation.gif"  # one sign, a few examples side by side (asl.evaluation.visualize)
ANIMATION_EXAMPLES = 3


@dataclass(frozen=True)
class ReportInputs:
    eval_metrics: dict[str, Any]
    predictions: pd.DataFrame
    history: dict[str, pd.DataFrame]
    meta: pd.DataFrame
    clean_report: dict[str, Any]
    robustness: dict[str, float]  # accuracy per perturbation of the raw test recordings
    values: np.ndarray | None = None  # the seed models' inputs of the store (asl.data.inputs), for the animation


def load_report_inputs(
    eval_path: str | Path,
    predictions_path: str | Path,
    train_log: str | Path,
    meta_path: str | Path,
    clean_report_path: str | Path,
    robustness_path: str | Path,
    values_path: str | Path | None = None,
    params=None,
) -> ReportInputs:
    """Read and check every input of the report; raise `AslError` naming the file on any problem. `values_path`
    (the store) needs `params` (its preprocess and data settings)."""
    meta = load_meta(meta_path)
    inputs = ReportInputs(
        eval_metrics=load_eval_metrics(eval_path),
        predictions=_read_csv(predictions_path, PREDICTION_COLUMNS),
        history=load_training_history(train_log),
        meta=meta,
        clean_report=load_clean_report(clean_report_path),
        robustness=load_robustness(robustness_path),
        values=None if values_path is None else seed_inputs(values_path, meta, params, meta_path),
    )
    return inputs


def load_meta(path: str | Path) -> pd.DataFrame:
    """The preprocessed sequences' metadata (meta.csv), sign names kept as text."""
    return _read_csv(path, META_COLUMNS)


def load_eval_metrics(path: str | Path) -> dict[str, Any]:
    """eval.json, checked for every key of its contract and a known split strategy."""
    metrics = _read_json(path)
    missing = [key for key in EVAL_KEYS if key not in metrics]
    if missing:
        raise AslError(f"{path}: missing key {missing[0]!r}; eval.json needs {', '.join(EVAL_KEYS)}")
    if metrics["split_strategy"] not in SPLIT_STRATEGIES:
        raise AslError(
            f"{path}: split_strategy must be one of {', '.join(SPLIT_STRATEGIES)}, got {metrics['split_strategy']!r}"
        )
    if not isinstance(metrics["per_participant"], dict):
        raise AslError(f"{path}: per_participant must be a mapping of participant id to accuracy")
    return metrics


def load_clean_report(path: str | Path) -> dict[str, Any]:
    """clean_report.json, checked for the counts the report shows."""
    report = _read_json(path)
    missing = [key for key in CLEAN_REPORT_KEYS if key not in report]
    if missing:
        raise AslError(f"{path}: missing key {missing[0]!r}; the clean report needs {', '.join(CLEAN_REPORT_KEYS)}")
    return report


def load_robustness(path: str | Path) -> dict[str, float]:
    """robustness.json: accuracy (a number) per perturbation."""
    robustness = _read_json(path)
    bad = [key for key, value in robustness.items() if not _is_number(value)]
    if bad or not robustness:
        raise AslError(f"{path}: expected accuracy numbers per perturbation, got {robustness!r}")
    return robustness


def load_training_history(dvclive_dir: str | Path) -> dict[str, pd.DataFrame]:
    """dvclive's step-wise metrics: `{"train/loss": frame, ..., "learning_rate": frame}`.

    Keys are the TSV paths under `plots/metrics/` without `.tsv`; each frame has `step` and a column named after
    the metric. Absent metrics are simply absent; a log with no step-wise metrics gives an empty dict.
    """
    dvclive_dir = Path(dvclive_dir)
    if not dvclive_dir.is_dir():
        raise AslError(f"{dvclive_dir}: training log folder not found")
    root = dvclive_dir / "plots" / "metrics"
    history = {}
    for file in sorted(root.rglob("*.tsv")):
        frame = _read_table(file, sep="\t")
        if "step" not in frame or file.stem not in frame:
            raise AslError(f"{file}: a dvclive metric file needs columns 'step' and {file.stem!r}")
        if not frame.empty:
            history[file.relative_to(root).with_suffix("").as_posix()] = frame
    return history


def write_report(
    eval_metrics: dict[str, Any],
    predictions: pd.DataFrame,
    history: dict[str, pd.DataFrame],
    meta: pd.DataFrame,
    clean_report: dict[str, Any],
    robustness: dict[str, float],
    out_dir: Path,
    title: str,
    values: np.ndarray | None = None,
) -> Path:
    """Draw the figures into `out_dir/figures/` and write `out_dir/report.md` (last, atomically); return its path.

    With `values` (the preprocessed array, rows as in `meta`), the data section also animates the most frequent sign.
    """
    out_dir = Path(out_dir)
    actual, predicted = predictions["actual"].tolist(), predictions["predicted"].tolist()
    plots.plot_data_distribution(meta, out_dir / FIGURES["data"])
    plots.plot_clean_drops(clean_report, out_dir / FIGURES["clean"])
    plots.plot_training_curves(history, out_dir / FIGURES["training"])
    plots.plot_confusion_matrix(actual, predicted, out_dir / FIGURES["confusion"])
    plots.plot_accuracy_per_sign(actual, predicted, out_dir / FIGURES["per_sign"])
    sections = [
        f"# {title}",
        _metrics_section(eval_metrics),
        _participants_section(eval_metrics, predictions),
        _robustness_section(robustness, eval_metrics),
        _data_section(meta),
        *([] if values is None else [_animation_section(values, meta, out_dir)]),
        _cleaning_section(clean_report),
        f"## Training\n\n![Training curves]({FIGURES['training']})",
        f"## Errors\n\n![Confusion matrix]({FIGURES['confusion']})\n\n![Accuracy per sign]({FIGURES['per_sign']})",
    ]
    path = out_dir / "report.md"
    with atomic_path(path) as temporary:
        temporary.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    return path


def _metrics_section(metrics: dict[str, Any]) -> str:
    scalars = [(key, _format(value)) for key, value in metrics.items()
               if (value is None or _is_number(value)) and not key.startswith("accuracy_ci95_")]
    interval = metrics["accuracy_ci95"]
    scalars.insert(1, ("accuracy_ci95", "none: one test participant (the bootstrap resamples participants)"
                       if interval is None else f"[{interval[0]:.4f}, {interval[1]:.4f}] (bootstrap over test "
                       "participants)"))
    table = _table(("metric", "value"), scalars)
    strategy = metrics["split_strategy"]
    if strategy == "random":
        split = f"Split strategy: **random** (sequences drawn at random, stratified by sign).\n\n{RANDOM_SPLIT_WARNING}"
    else:
        split = (f"Split strategy: **{strategy}** (signer-independent: no test participant was seen in training). "
                 "Every usable test recording is scored; quality rules only drop training recordings.")
    unscored = (f"{metrics['n_test']} test recordings scored; {metrics['n_unscorable']} could not be used "
                f"(file unreadable or malformed) and {metrics['n_missing']} are missing.")
    return f"## Test metrics\n\n{table}\n\n{split}\n\n{unscored}"


def _participants_section(metrics: dict[str, Any], predictions: pd.DataFrame) -> str:
    counts = predictions["participant_id"].astype(str).value_counts()
    rows = [
        (participant, counts.get(str(participant), 0), _format(accuracy))
        for participant, accuracy in sorted(metrics["per_participant"].items())
    ]
    if not rows:
        return "## Accuracy per participant\n\nNo per-participant accuracy in the evaluation."
    return "## Accuracy per participant\n\n" + _table(("participant", "test sequences", "accuracy"), rows)


def _data_section(meta: pd.DataFrame) -> str:
    summary = (
        f"{len(meta)} preprocessed sequences of {meta['sign'].nunique()} signs "
        f"by {meta['participant_id'].nunique()} participants."
    )
    return f"## Data\n\n{summary}\n\n![Data distribution]({FIGURES['data']})"


def _animation_section(values: np.ndarray, meta: pd.DataFrame, out_dir: Path) -> str:
    """Animate a few examples of the most frequent sign (ties: first by name)."""
    from asl.evaluation.visualize import animate_sign

    counts = meta["sign"].astype(str).value_counts()
    sign = sorted(counts[counts == counts.max()].index)[0]
    animate_sign(values, meta, sign, ANIMATION_EXAMPLES, out_dir / ANIMATION)
    shown = min(ANIMATION_EXAMPLES, int(counts[sign]))
    return (f"### One sign: {sign}\n\n{shown} preprocessed examples of `{sign}`, one animation frame per "
            f"sequence frame.\n\n![{sign} animated]({ANIMATION})")


def _robustness_section(robustness: dict[str, float], metrics: dict[str, Any]) -> str:
    rows = [(name, _format(accuracy), _format(accuracy - robustness.get("clean", metrics["accuracy"])))
            for name, accuracy in robustness.items()]
    return ("## Robustness\n\nAccuracy on the same test recordings with the raw sequences perturbed before "
            "preprocessing (seeded).\n\n" + _table(("perturbation", "accuracy", "change"), rows))


def _cleaning_section(clean_report: dict[str, Any]) -> str:
    dropped = clean_report["dropped"]
    lines = [
        "## Cleaning",
        f"{clean_report['n_kept']} of {clean_report['n_index_rows']} index rows used, {sum(dropped.values())} not. "
        "Validation and test rows lose only recordings whose file is missing or unusable; the quality rules "
        "(statistics from training rows) drop training rows only.",
    ]
    splits = clean_report["splits"]
    reasons = sorted({reason for part in splits.values() for reason in part["dropped"]})
    rows = [(name, part["rows"], part["kept"], *(part["dropped"].get(reason, 0) for reason in reasons))
            for name, part in splits.items()]
    lines.append(_table(("split", "rows", "used", *reasons), rows))
    fields = ("path", "participant_id", "sign", "detail")
    examples = [
        (name, reason, *(example.get(field, "") for field in fields))
        for name, part in splits.items()
        for reason, listed in part.get("examples", {}).items()
        for example in listed[:EXAMPLES_PER_REASON]
    ]
    if examples:
        lines.append(f"Examples of recordings not used (at most {EXAMPLES_PER_REASON} per split and reason):")
        lines.append(_table(("split", "reason", "path", "participant", "sign", "detail"), examples))
    lines.append(f"![Recordings not used per reason]({FIGURES['clean']})")
    return "\n\n".join(lines)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table; pipes in cells are escaped so a detail message cannot break the layout."""

    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _format(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _read_json(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AslError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AslError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise AslError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _read_csv(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    frame = _read_table(Path(path), sep=",")
    missing = [column for column in columns if column not in frame]
    if missing:
        raise AslError(f"{path}: missing column {missing[0]!r}; it needs {', '.join(columns)}")
    return frame


def _read_table(path: Path, sep: str) -> pd.DataFrame:
    """Read every column as text, then numbers where they parse: sign names such as "null" or "nan" stay names."""
    try:
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except FileNotFoundError:
        raise AslError(f"{path}: file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise AslError(f"{path}: cannot be read as a table: {error}") from None
    for column in frame.columns:
        if column not in TEXT_COLUMNS:
            try:
                frame[column] = pd.to_numeric(frame[column])
            except (ValueError, TypeError):
                pass  # a text column this report does not use
    return frame
