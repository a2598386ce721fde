"""Report figures: each function takes data (not paths), saves one PNG atomically and returns its path.

Figures are built on `matplotlib.figure.Figure` directly (the Agg canvas, no pyplot), so nothing here touches
matplotlib's global backend or figure registry.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from asl.io import atomic_path

MAX_LABELLED_SIGNS = 30  # above this, the confusion matrix drops its tick labels: 250 names cannot be read
DPI = 100


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Save `figure` as a PNG at `path` atomically (temporary name beside it, then rename); return the path."""
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI, bbox_inches="tight")
    return path


def plot_training_curves(history: dict[str, pd.DataFrame], path: str | Path) -> Path:
    """One panel per metric with a line per split (keys `train/loss`, `valid/loss`, ...), plus `learning_rate`.

    Each frame has a `step` column and a column named after the metric (the key's last component), as dvclive writes.
    """
    panels: dict[str, list[str]] = {}
    for key in sorted(history, key=lambda k: ("/" not in k, k.rsplit("/", 1)[-1], k)):
        panels.setdefault(key.rsplit("/", 1)[-1], []).append(key)
    if not panels:
        return _save_message("No training log was found.", path)
    columns = min(3, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = Figure(figsize=(4.5 * columns, 3.2 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, (name, keys) in zip(axes, panels.items()):
        for key in keys:
            frame = history[key]
            ax.plot(frame["step"], frame[name], marker=".", label=key.split("/")[0] if "/" in key else None)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        if any("/" in key for key in keys):
            ax.legend(fontsize=8)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    return save_figure(figure, path)


def plot_confusion_matrix(actual: Sequence[str], predicted: Sequence[str], path: str | Path) -> Path:
    """Row-normalised confusion matrix (each row: where the sequences of one actual sign went)."""
    from sklearn.metrics import confusion_matrix

    if len(actual) == 0:
        return _save_message("No test predictions.", path)
    labels = sorted(set(actual) | set(predicted))
    matrix = confusion_matrix(actual, predicted, labels=labels, normalize="true")
    size = min(max(5.0, 0.3 * len(labels) + 2.5), 20.0)
    figure = Figure(figsize=(size + 1.0, size), layout="constrained")
    ax = figure.subplots()
    image = ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=1.0, interpolation="nearest")
    figure.colorbar(image, ax=ax, shrink=0.8, label="fraction of the actual sign")
    if len(labels) <= MAX_LABELLED_SIGNS:
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("predicted sign")
    ax.set_ylabel("actual sign")
    ax.set_title(f"Confusion matrix ({len(labels)} signs, rows sum to 1)")
    return save_figure(figure, path)


def plot_accuracy_per_sign(actual: Sequence[str], predicted: Sequence[str], path: str | Path) -> Path:
    """Horizontal bars of test accuracy per actual sign, best at the top."""
    if len(actual) == 0:
        return _save_message("No test predictions.", path)
    correct = pd.Series(list(actual)) == pd.Series(list(predicted))
    accuracy = correct.groupby(list(actual)).mean().sort_values()
    figure = Figure(figsize=(7, _sign_axis_height(len(accuracy))), layout="constrained")
    ax = figure.subplots()
    ax.barh(accuracy.index, accuracy.to_numpy(), color="tab:blue")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(accuracy) - 0.4)
    ax.tick_params(axis="y", labelsize=_sign_font_size(len(accuracy)))
    ax.set_xlabel("accuracy")
    ax.set_title(f"Test accuracy per sign ({len(accuracy)} signs)")
    ax.grid(axis="x", alpha=0.3)
    return save_figure(figure, path)


def plot_data_distribution(meta: pd.DataFrame, path: str | Path) -> Path:
    """Samples per sign and mean original length per sign, one row per sign, sorted by number of samples."""
    if meta.empty:
        return _save_message("No preprocessed sequences.", path)
    per_sign = meta.groupby("sign").agg(samples=("sign", "size"), length=("original_frames", "mean"))
    per_sign = per_sign.sort_values(["samples", "length"])
    n = len(per_sign)
    figure = Figure(figsize=(10, _sign_axis_height(n)), layout="constrained")
    left, right = figure.subplots(1, 2, sharey=True)
    left.barh(per_sign.index, per_sign["samples"], color="tab:blue")
    left.set_xlabel("sequences")
    left.set_title("Samples per sign")
    right.barh(per_sign.index, per_sign["length"], color="tab:orange")
    right.set_xlabel("mean original frames")
    right.set_title("Mean original length per sign")
    left.set_ylim(-0.6, n - 0.4)
    left.tick_params(axis="y", labelsize=_sign_font_size(n))
    for ax in (left, right):
        ax.grid(axis="x", alpha=0.3)
    figure.suptitle(f"{len(meta)} sequences, {n} signs")
    return save_figure(figure, path)


def plot_clean_drops(clean_report: dict, path: str | Path) -> Path:
    """Bar chart of how many index rows the clean stage dropped, per reason."""
    dropped = {reason: count for reason, count in clean_report.get("dropped", {}).items() if count}
    kept, total = clean_report.get("n_kept"), clean_report.get("n_index_rows")
    if not dropped:
        return _save_message(f"No sequences dropped ({kept} of {total} kept).", path)
    reasons = sorted(dropped, key=dropped.get, reverse=True)
    figure = Figure(figsize=(max(5.0, 1.2 * len(reasons) + 2.0), 4), layout="constrained")
    ax = figure.subplots()
    bars = ax.bar(reasons, [dropped[r] for r in reasons], color="tab:red")
    ax.bar_label(bars, fontsize=8)
    ax.tick_params(axis="x", rotation=30, labelsize=8)
    ax.set_ylabel("sequences dropped")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"Cleaning: {kept} of {total} kept")
    return save_figure(figure, path)


def _save_message(message: str, path: str | Path) -> Path:
    """A small figure that states why there is nothing to plot, so the report's link still shows something."""
    figure = Figure(figsize=(5, 1.5))
    figure.text(0.5, 0.5, message, ha="center", va="center")
    return save_figure(figure, path)


def _sign_axis_height(n_signs: int) -> float:
    """Figure height (inches) that gives each sign's row room for its label."""
    return max(3.0, 0.13 * n_signs + 1.5)


def _sign_font_size(n_signs: int) -> float:
    return 8.0 if n_signs <= 60 else 6.0
