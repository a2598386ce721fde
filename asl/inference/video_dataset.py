"""Videos as training data (the seed's `train_add.csv`): a raw-layout dataset extracted from labelled videos.

The dataset has its own `train.csv`, the official sign map and one participant id for the whole source, so that
`data.extra_raw_dirs` can add it to training (never to validation or test, see `asl.data.splits`).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from asl.data.raw import INDEX_COLUMNS, INDEX_FILE, LANDMARK_DIR, SIGN_MAP_FILE
from asl.data.sign_names import GISLR_SIGNS
from asl.errors import AslError
from asl.inference.extract import extract_video, write_landmarks
from asl.inference.video import sign_from_name
from asl.io import atomic_path, write_csv

LABEL_COLUMNS = ("video", "sign")


@dataclass
class DatasetReport:
    written: list[dict] = field(default_factory=list)  # index rows written
    failed: dict[str, str] = field(default_factory=dict)  # video → message


def read_labels(path: Path) -> list[tuple[Path, str]]:
    """(video, sign) pairs from a CSV with columns `video, sign`; relative videos are relative to the CSV."""
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise AslError(f"{path}: labels file not found") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise AslError(f"{path}: not a readable CSV file: {error}") from None
    missing = [c for c in LABEL_COLUMNS if c not in table.columns]
    if missing:
        raise AslError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(LABEL_COLUMNS)}")
    return [(Path(path).parent / video, sign) for video, sign in zip(table["video"], table["sign"])]


def labels_from_names(videos: list[Path]) -> list[tuple[Path, str | None]]:
    """(video, sign) pairs from names `<sign>__<anything>.mp4`; the sign is None when the name has none."""
    pairs = []
    for video in videos:
        try:
            pairs.append((video, sign_from_name(video)))
        except AslError:
            pairs.append((video, None))
    return pairs


def sequence_id(video: Path) -> str:
    """A stable sequence id from the video's file name (Kaggle's ids are numbers)."""
    return str(zlib.crc32(Path(video).name.encode()) + 1)


def build_video_dataset(labelled: list[tuple[Path, str | None]], out_dir: Path, participant: str,
                        frames: int | None = None, model_complexity: int = 1, progress=None) -> DatasetReport:
    """Extract every labelled video into `out_dir` in the raw layout; bad videos are reported, not fatal."""
    sign_map = {sign: label for label, sign in enumerate(GISLR_SIGNS)}
    report = DatasetReport()
    for video, sign in labelled:
        try:
            if sign is None:
                sign_from_name(video)  # raises the message saying how to name the video
            if sign not in sign_map:
                raise AslError(f"{video}: sign {sign!r} is not in the sign map ({SIGN_MAP_FILE}: the 250 GISLR signs)")
            relative = f"{LANDMARK_DIR}/{participant}/{sequence_id(video)}.parquet"
            write_landmarks(extract_video(video, frames, model_complexity), out_dir / relative)
            report.written.append(dict(zip(INDEX_COLUMNS, (relative, participant, sequence_id(video), sign))))
        except AslError as error:
            report.failed[str(video)] = str(error)
        if progress is not None:
            progress(video, report)
    if report.written:
        with atomic_path(out_dir / SIGN_MAP_FILE) as temporary:
            temporary.write_text(json.dumps(sign_map))
        write_csv(pd.DataFrame(report.written, columns=list(INDEX_COLUMNS)), out_dir / INDEX_FILE)
    return report
