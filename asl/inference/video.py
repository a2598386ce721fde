"""Video files: finding them, reading their frames (all, or evenly sampled), and signs from their names.

OpenCV is imported inside the functions that use it, so `asl --help` does not pay for it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from asl.errors import AslError
from asl.extras import require

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
SIGN_SEPARATOR = "__"  # training videos are named <sign>__<anything>.mp4


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    frames: int  # as the container reports it; may be approximate
    fps: float
    width: int
    height: int


def open_video(path: str | Path):
    """An opened `cv2.VideoCapture` for a file, or an `AslError` saying why it cannot be read as a video."""
    cv2 = require("cv2", "video")

    path = Path(path)
    if not path.is_file():
        raise AslError(f"{path}: video file not found")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        capture.release()
        raise AslError(f"{path}: not a readable video file")
    return capture


def video_info(path: str | Path) -> VideoInfo:
    import cv2

    capture = open_video(path)
    try:
        return VideoInfo(Path(path), int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), float(capture.get(cv2.CAP_PROP_FPS)),
                         int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    finally:
        capture.release()


def sample_indices(total: int, target: int | None) -> np.ndarray:
    """Indices of `target` frames spread evenly over `total` (all of them when target is None or ≥ total)."""
    if target is None or target >= total:
        return np.arange(total)
    if target < 1:
        raise AslError(f"the number of frames to sample must be at least 1, got {target}")
    return np.unique(np.round(np.linspace(0, total - 1, target)).astype(int))


def read_frames(path: str | Path, frames: int | None = None, total: int | None = None
                ) -> Iterator[tuple[int, np.ndarray]]:
    """(frame index, BGR frame) of every frame, or of `frames` evenly sampled ones, in order.

    Frames are decoded in sequence (seeking is unreliable in many codecs); skipped ones are only grabbed. Sampling
    counts the frames first (`total`, when the caller has counted them): the container's figure is often wrong
    (164 for a video of 91 frames here).
    """
    if frames is not None and total is None:
        total = count_frames(path)
    capture = open_video(path)
    try:
        wanted = set(sample_indices(total, frames).tolist()) if total is not None else None
        index = 0
        while capture.grab():
            if wanted is None or index in wanted:
                ok, frame = capture.retrieve()
                if ok:
                    yield index, frame
            index += 1
    finally:
        capture.release()


def count_frames(path: str | Path) -> int:
    """The exact frame count, by grabbing every frame (rewinding by seeking is unreliable, so this reads apart)."""
    capture = open_video(path)
    count = 0
    try:
        while capture.grab():
            count += 1
    finally:
        capture.release()
    if count == 0:
        raise AslError(f"{path}: the video has no frames")
    return count


def find_videos(paths: list[Path]) -> list[Path]:
    """The given files, and the video files (by suffix, sorted) inside any given folder."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            videos = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
            if not videos:
                raise AslError(f"{path}: no video files ({', '.join(VIDEO_SUFFIXES)}) in this folder")
            found.extend(videos)
        else:
            found.append(path)
    return found


def random_video(folder: Path, seed: int | None = None) -> Path:
    """One video picked at random from a folder (the seed's `get_random_video`)."""
    return random.Random(seed).choice(find_videos([Path(folder)]))


def sign_from_name(path: Path) -> str:
    """The sign a training video shows, from its name `<sign>__<anything>.<suffix>`."""
    stem = Path(path).stem
    if SIGN_SEPARATOR not in stem or not stem.split(SIGN_SEPARATOR)[0]:
        raise AslError(f"{path}: the name does not start with a sign (expected <sign>{SIGN_SEPARATOR}<anything>"
                       f"{Path(path).suffix}); give the signs in a CSV instead")
    return stem.split(SIGN_SEPARATOR)[0]
