"""MediaPipe Holistic landmarks from video frames, in the Kaggle GISLR layout (543 rows per frame, NaN if not found).

The legacy solution `mp.solutions.holistic` of mediapipe 0.10.21 is the one that made the Kaggle data and the one
whose models ship inside the wheel (only `model_complexity=1`: the others download a model at run time, which
cannot work offline). Frames are given as OpenCV's BGR and converted to RGB; they are never flipped, so MediaPipe's
left and right hands mean what they mean in the Kaggle data. Landmarks leave `HolisticExtractor.process` mapped
into the competition's capture geometry (`asl.inference.geometry.to_capture`), whatever the frame's shape.
"""

from __future__ import annotations

import contextlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from asl.data.raw import landmark_table, validate_landmark_file
from asl.errors import AslError
from asl.extras import require
from asl.inference.geometry import CAPTURE_ASPECT, to_capture
from asl.inference.video import count_frames, read_frames, video_info
from asl.io import atomic_path
from asl.logs import native_logs_silenced
from asl.landmarks import HOLISTIC_PARTS, ROWS_PER_FRAME, part_rows

#: The Holistic result attribute of each part of the layout.
RESULT_FIELDS = {"face": "face_landmarks", "left_hand": "left_hand_landmarks", "pose": "pose_landmarks",
                 "right_hand": "right_hand_landmarks"}
#: The parquet metadata key of a video's frame size and the capture aspect its landmarks were mapped to.
GEOMETRY_KEY = "asl.geometry"
#: The pose model file of each `model_complexity`.
POSE_MODELS = {0: "pose_landmark_lite.tflite", 1: "pose_landmark_full.tflite", 2: "pose_landmark_heavy.tflite"}


@dataclass(frozen=True)
class Extraction:
    """Landmarks of the frames read from one video."""

    frame_numbers: np.ndarray  # (T,) index of each frame in the video
    values: np.ndarray  # (T, 543, 3) x, y, z; NaN where a part was not found
    decoded_frames: int = 0  # frames the video decoded to (all, not only those sampled)
    declared_frames: int = 0  # frames its container declares
    frame_size: tuple[int, int] | None = None  # (width, height) of its frames; `values` are mapped from them


def import_mediapipe():
    """The `mediapipe` package, imported without TensorFlow: its tasks package imports TensorFlow (3 s, and its C++
    logging) only for documentation decorators, and takes a no-op when TensorFlow is not importable."""
    blocked = "tensorflow" not in sys.modules and "tensorflow.tools.docs" not in sys.modules
    if blocked:
        sys.modules["tensorflow.tools.docs"] = None  # an import of it raises ModuleNotFoundError
    try:
        mediapipe = require("mediapipe", "video")
    finally:
        if blocked:
            del sys.modules["tensorflow.tools.docs"]
    return mediapipe


def check_model_complexity(model_complexity: int) -> None:
    """Fail clearly, before MediaPipe tries to download it, when a complexity's pose model is not installed."""
    mediapipe = import_mediapipe()

    if model_complexity not in POSE_MODELS:
        raise AslError(f"model_complexity must be one of {', '.join(map(str, POSE_MODELS))}, got {model_complexity}")
    model = Path(mediapipe.__file__).parent / "modules" / "pose_landmark" / POSE_MODELS[model_complexity]
    if not model.is_file():
        raise AslError(f"model_complexity={model_complexity} needs {model.name}, which this mediapipe does not ship "
                       f"and cannot be downloaded offline; use model_complexity=1")


class HolisticExtractor:
    """One MediaPipe Holistic graph, tracking across the frames of one video or camera stream."""

    def __init__(self, model_complexity: int = 1, static_image_mode: bool = False) -> None:
        check_model_complexity(model_complexity)
        from mediapipe.python.solutions.holistic import Holistic

        # MediaPipe's C++ logs from its graph threads, also between calls: silenced for the extractor's life
        self._silence = contextlib.ExitStack()
        self._silence.enter_context(native_logs_silenced())
        try:
            self._holistic = Holistic(static_image_mode=static_image_mode, model_complexity=model_complexity)
        except BaseException:
            self._silence.close()
            raise

    def __enter__(self) -> HolisticExtractor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._holistic.close()
        finally:
            self._silence.close()

    def process(self, frame_bgr: np.ndarray, aspect: float | None = None) -> np.ndarray:
        """Landmarks (543, 3) of one BGR frame, in the Kaggle layout and the competition's capture geometry; NaN
        where a part was not found. `aspect` is the width / height of the scene the frame shows: the frame's own
        by default, the source's when the frame was resized to another shape (MediaPipe's x and y are fractions
        of the width and height either way)."""
        import cv2

        result = self._holistic.process(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        height, width = frame_bgr.shape[:2]
        return to_capture(result_to_array(result), aspect or width / height)


def result_to_array(result) -> np.ndarray:
    """A Holistic result as (543, 3): face, left hand, pose, right hand; NaN for the parts not found."""
    values = np.full((ROWS_PER_FRAME, 3), np.nan)
    for part, size in HOLISTIC_PARTS:
        landmarks = getattr(result, RESULT_FIELDS[part])
        if landmarks is not None:
            points = landmarks.landmark
            values[part_rows(part)] = [(p.x, p.y, p.z) for p in points][:size]
    return values


def extract_video(path: str | Path, frames: int | None = None, model_complexity: int = 1) -> Extraction:
    """Holistic landmarks of every frame of a video, or of `frames` evenly sampled ones.

    Raises `AslError` when the file is not a readable video or no person is found in any frame.
    """
    declared = video_info(path).frames  # a missing or unreadable file fails here, before MediaPipe starts
    decoded = count_frames(path) if frames is not None else None
    numbers, values, size = [], [], None
    with HolisticExtractor(model_complexity) as extractor:
        for number, frame in read_frames(path, frames, decoded):
            numbers.append(number)
            values.append(extractor.process(frame))
            size = frame.shape[1::-1]
    if not values:
        raise AslError(f"{path}: no frame could be decoded")
    extraction = Extraction(np.array(numbers), np.stack(values), decoded or len(numbers), declared, tuple(size))
    if np.isnan(extraction.values).all():
        raise AslError(f"{path}: no person found in any of its {len(numbers)} frames read")
    return extraction


def hands_seen(values: np.ndarray) -> np.ndarray:
    """(T,) True for the frames of raw landmarks (T, 543, C) where at least one hand was found."""
    hands = np.concatenate([part_rows("left_hand"), part_rows("right_hand")])
    return ~np.isnan(values[:, hands]).all(axis=(1, 2))


def write_landmarks(extraction: Extraction, path: str | Path) -> Path:
    """Write an extraction as a parquet file in the Kaggle schema (atomically), checked by the landmark validator
    before it takes its name. The file's metadata (`GEOMETRY_KEY`) records the video's frame size and the capture
    aspect its landmarks were mapped to, so that the mapping can be undone (`asl.inference.geometry.to_frame`)."""
    table = landmark_table(extraction.frame_numbers, extraction.values)
    if extraction.frame_size is not None:
        width, height = extraction.frame_size
        geometry = {"frame_width": int(width), "frame_height": int(height), "capture_aspect": CAPTURE_ASPECT}
        table = table.replace_schema_metadata({GEOMETRY_KEY: json.dumps(geometry)})
    with atomic_path(path) as temporary:
        pq.write_table(table, temporary)
        validate_landmark_file(temporary)
    return Path(path)
