"""Animated landmark sequences (the seed's visualisations): examples of one sign, and augmented versions of one.

Sequences are preprocessed arrays (T, 96, C): points drawn per part, with the hand, lip and upper-body
connections of MediaPipe (`asl.landmarks.selected_connections`). One animation frame per sequence frame. GIFs are
written with matplotlib's PillowWriter; MP4 needs ffmpeg. Like `plots`, figures use `Figure` directly (no pyplot).
The data distribution figure is `asl.evaluation.plots.plot_data_distribution`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from asl.data.augment import training_augmenter
from asl.data.inputs import input_groups
from asl.errors import AslError
from asl.io import atomic_path
from asl.landmarks import selected_connections, selected_positions
from asl.params import AUGMENT_SECTIONS, AugmentConfig

PART_COLOURS = {"lips": "tab:red", "left_hand": "tab:green", "right_hand": "tab:blue", "pose": "tab:gray"}
PANEL_INCHES = 3.0
DPI = 72


def animate_sequences(sequences: Sequence[np.ndarray], titles: Sequence[str], path: str | Path,
                      fps: int = 10) -> Path:
    """Animate sequences (each (T, 96, C), NaN where missing) side by side; save as .gif or .mp4 atomically."""
    from matplotlib.animation import FuncAnimation

    path = Path(path)
    writer = _writer(path, fps)
    frames = max(len(sequence) for sequence in sequences)
    figure = Figure(figsize=(PANEL_INCHES * len(sequences), PANEL_INCHES + 0.3), layout="constrained")
    axes = figure.subplots(1, len(sequences), squeeze=False).ravel()
    limits = _limits(sequences)
    draws = [_panel(ax, title, limits) for ax, title in zip(axes, titles)]
    figure.draw_without_rendering()  # lay the panels out once: every frame has the same layout
    figure.set_layout_engine("none")

    def update(frame: int) -> list:
        artists = []
        for draw, sequence in zip(draws, sequences):
            artists += draw(sequence[min(frame, len(sequence) - 1)], frame)
        return artists

    animation = FuncAnimation(figure, update, frames=frames, blit=False)
    with atomic_path(path) as temporary:
        staged = temporary.with_name(temporary.name + path.suffix)  # writers pick the format from the suffix
        try:
            animation.save(str(staged), writer=writer, dpi=DPI)
            os.replace(staged, temporary)
        finally:
            staged.unlink(missing_ok=True)
    return path


def _writer(path: Path, fps: int):
    from matplotlib import animation

    suffix = path.suffix.lower()
    if suffix == ".gif":
        return animation.PillowWriter(fps=fps)
    if suffix == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise AslError(f"{path}: writing MP4 needs ffmpeg, which is not installed; save as .gif instead")
        return animation.FFMpegWriter(fps=fps)
    raise AslError(f"{path}: unknown animation format {path.suffix!r}; use .gif or .mp4")


def _limits(sequences: Sequence[np.ndarray]) -> tuple[float, float, float, float]:
    """Shared (x0, x1, y0, y1) over every observed point, with a margin."""
    points = np.concatenate([s[..., :2].reshape(-1, 2) for s in sequences])
    points = points[~np.isnan(points).any(axis=1)]
    if len(points) == 0:
        return 0.0, 1.0, 0.0, 1.0
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    margin = 0.05 * max(x1 - x0, y1 - y0, 1e-3)
    return x0 - margin, x1 + margin, y0 - margin, y1 + margin


def _panel(ax, title: str, limits: tuple[float, float, float, float]):
    """Set up one panel; return a function that draws one frame (96, C) into it."""
    x0, x1, y0, y1 = limits
    ax.set_xlim(x0, x1)
    ax.set_ylim(y1, y0)  # image coordinates: y grows downwards
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    connections = selected_connections()
    parts = {}
    for part, colour in PART_COLOURS.items():
        lines = LineCollection([], colors=colour, linewidths=1.0)
        ax.add_collection(lines)
        (points,) = ax.plot([], [], "o", color=colour, markersize=2)
        parts[part] = (lines, points)
    label = ax.set_title(title, fontsize=8)

    def draw(frame_values: np.ndarray, frame: int) -> list:
        xy = frame_values[:, :2]
        for part, (lines, points) in parts.items():
            own = xy[selected_positions(part)]
            points.set_data(own[:, 0], own[:, 1])
            segments = xy[connections[part]]  # (E, 2 ends, 2)
            lines.set_segments(segments[~np.isnan(segments).any(axis=(1, 2))])
        label.set_text(f"{title}  frame {frame + 1}")
        return [label, *(artist for pair in parts.values() for artist in pair)]

    return draw


def sign_rows(meta: pd.DataFrame, sign: str) -> np.ndarray:
    """Row numbers of `meta` (the preprocessed metadata) holding `sign`; `AslError` listing signs if none."""
    rows = np.flatnonzero(meta["sign"].astype(str).to_numpy() == sign)
    if len(rows) == 0:
        known = sorted(meta["sign"].astype(str).unique())
        listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
        raise AslError(f"sign {sign!r} is not in the data; signs are: {listed}")
    return rows


def animate_sign(values: np.ndarray, meta: pd.DataFrame, sign: str, n: int, path: str | Path,
                 seed: int = 0, fps: int = 10) -> Path:
    """`n` examples of `sign` (drawn with `seed`), animated side by side."""
    rows = sign_rows(meta, sign)
    if n < 1:
        raise AslError(f"n must be at least 1, got {n}")
    chosen = np.sort(np.random.default_rng(seed).choice(rows, size=min(n, len(rows)), replace=False))
    sequences = [np.asarray(values[row], dtype=np.float32) for row in chosen]
    titles = [f"{sign}: participant {meta['participant_id'].iloc[row]}" for row in chosen]
    return animate_sequences(sequences, titles, path, fps)


def animate_augmentations(values: np.ndarray, meta: pd.DataFrame, sign: str, n: int, config: AugmentConfig,
                          path: str | Path, seed: int = 0, fps: int = 10, normalization: str = "none") -> Path:
    """One example of `sign` and `n` augmented versions (every method of `config.methods` applied), side by side;
    `values` are normalised by `normalization` (preprocess.normalization)."""
    rows = sign_rows(meta, sign)
    if n < 1:
        raise AslError(f"n must be at least 1, got {n}")
    original = np.asarray(values[np.random.default_rng(seed).choice(rows)], dtype=np.float32)
    every_time = dataclasses.replace(config, **{name: dataclasses.replace(getattr(config, name), probability=None)
                                                for name in AUGMENT_SECTIONS})
    augmenter = training_augmenter(every_time, 1.0, input_groups(values), normalization, seed)
    batch, mask = augmenter(np.repeat(original[None], n, axis=0), np.ones((n, len(original)), bool), 0, 0)
    augmented = [sequence[frames] for sequence, frames in zip(batch, mask)]
    titles = ["original"] + [f"augmented {i + 1}" for i in range(n)]
    return animate_sequences([original, *augmented], titles, path, fps)
