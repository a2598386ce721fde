"""The competition's capture geometry, and the mapping of video landmarks into it.

MediaPipe's x and y are fractions of the frame's width and height (and z is scaled like x), so a frame's shape
distorts every sign: the same body reads wider in a landscape video than in the competition's captures. The
competition's frame shape is estimated from its own data by a body proportion, shoulder width (pose 11–12) against
face height (face mesh 10–152): its median in the recordings' normalised units, against the same ratio in pixels
in real videos of known frame size (the body's own proportion), gives the frame aspect (width / height) the
recordings were made at. `benchmarks/capture_geometry.py` measures it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from asl.landmarks import part_rows

#: The competition's effective frame aspect (width / height), about a 3:4 portrait: the body's shoulder/face ratio in
#: pixels, 1.580 (median of the 6 real videos in ../shared/data/videos, 1.54-1.69), over the recordings' 2.167 in
#: normalised units, from `python benchmarks/capture_geometry.py`.
CAPTURE_ASPECT = 0.729
#: Median shoulder/face ratio of the 264 real competition recordings in ../shared/data/gislr-sample that show both
#: (normalised units), from `python benchmarks/capture_geometry.py`; tests recompute it.
CAPTURE_SHOULDER_FACE_RATIO = 2.167

#: Rows (of the 543-row frame) of the two shoulders and of the face's top and chin.
SHOULDER_ROWS = part_rows("pose")[[11, 12]]
FACE_ROWS = part_rows("face")[[10, 152]]


def shoulder_face_ratio(values: np.ndarray, aspect: float = 1.0) -> float:
    """Median over frames of shoulder width / face height of raw landmarks (T, 543, ≥2), x scaled by `aspect`
    (1: in normalised units; a frame's width / height: in its pixels); NaN when no frame shows both."""
    points = values[:, np.concatenate([SHOULDER_ROWS, FACE_ROWS]), :2] * (aspect, 1.0)  # (T, 4, 2)
    shoulders = np.linalg.norm(points[:, 0] - points[:, 1], axis=-1)
    face = np.linalg.norm(points[:, 2] - points[:, 3], axis=-1)
    ratios = (shoulders / face)[np.isfinite(shoulders) & (face > 0)]
    return float(np.median(ratios)) if len(ratios) else float("nan")


def recording_ratios(raw_dir: Path) -> np.ndarray:
    """The shoulder/face ratio (normalised units) of every landmark file of a raw-layout folder that shows both."""
    from asl.data.raw import LANDMARK_DIR, read_landmarks

    ratios = [shoulder_face_ratio(read_landmarks(path, ("x", "y")).values)
              for path in sorted(Path(raw_dir).glob(f"{LANDMARK_DIR}/*/*.parquet"))]
    return np.array([ratio for ratio in ratios if np.isfinite(ratio)])


def capture_scale(aspect: float) -> float:
    """The factor by which x (and z) of a frame of this aspect (width / height) are stretched into the
    competition's capture geometry."""
    return aspect / CAPTURE_ASPECT


def to_capture(values: np.ndarray, aspect: float) -> np.ndarray:
    """Landmarks (..., 3) of a frame of this aspect (width / height) as a frame of the competition's aspect reads
    them: the height and the centre are kept and x (and z, scaled like x) stretched by `capture_scale`; a new array.

    Keeping the height keeps the signer's size in the frame close to the competition's: phone captures and web
    video alike frame a signer from head to waist over the height, while the width holds more or less background.
    """
    scale = capture_scale(aspect)
    mapped = np.array(values, dtype=np.float64, copy=True)
    mapped[..., 0] = 0.5 + (mapped[..., 0] - 0.5) * scale
    mapped[..., 2] = mapped[..., 2] * scale
    return mapped


def to_frame(values: np.ndarray, aspect: float) -> np.ndarray:
    """The inverse of `to_capture`: landmarks (..., ≥2) in the frame's own normalised units (to draw on it)."""
    scale = capture_scale(aspect)
    unmapped = np.array(values, dtype=np.float64, copy=True)
    unmapped[..., 0] = 0.5 + (unmapped[..., 0] - 0.5) / scale
    if unmapped.shape[-1] > 2:
        unmapped[..., 2] = unmapped[..., 2] / scale
    return unmapped
