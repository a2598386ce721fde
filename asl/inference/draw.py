"""Drawing on video frames with OpenCV: the landmark mesh, the top predictions and the frame rate."""

from __future__ import annotations

import numpy as np

from asl.inference.geometry import to_frame
from asl.landmarks import part_rows

COLOURS = {"face": (200, 200, 200), "left_hand": (60, 200, 60), "pose": (200, 120, 40), "right_hand": (60, 60, 230)}
TEXT_COLOUR = (255, 255, 255)
PANEL_COLOUR = (0, 0, 0)


def _connections() -> dict[str, frozenset]:
    """MediaPipe's own connection lists of the hand and the pose (imported here: mediapipe is heavy)."""
    from asl.inference.extract import import_mediapipe

    import_mediapipe()
    from mediapipe.python.solutions.hands_connections import HAND_CONNECTIONS
    from mediapipe.python.solutions.pose_connections import POSE_CONNECTIONS

    return {"left_hand": HAND_CONNECTIONS, "right_hand": HAND_CONNECTIONS, "pose": POSE_CONNECTIONS}


def draw_landmarks(frame: np.ndarray, raw: np.ndarray, aspect: float | None = None) -> np.ndarray:
    """Draw one frame's landmarks (543, ≥2; NaN = not found) onto a BGR frame, in place. The landmarks are in the
    capture geometry (`HolisticExtractor.process`) of a scene of this `aspect` (width / height; the frame's own by
    default)."""
    import cv2

    height, width = frame.shape[:2]
    in_frame = to_frame(raw[:, :2], aspect or width / height)
    connections = _connections()
    for part, colour in COLOURS.items():
        points = in_frame[part_rows(part)]
        if np.isnan(points).all():
            continue
        pixels = np.nan_to_num(points * (width, height), nan=-1).astype(int)
        visible = ~np.isnan(points).any(axis=1)
        for start, end in connections.get(part, ()):
            if visible[start] and visible[end]:
                cv2.line(frame, tuple(pixels[start]), tuple(pixels[end]), colour, 2, cv2.LINE_AA)
        radius = 1 if part == "face" else 3
        for x, y in pixels[visible]:
            cv2.circle(frame, (int(x), int(y)), radius, colour, -1, cv2.LINE_AA)
    return frame


def draw_predictions(frame: np.ndarray, predictions, fps: float | None = None) -> np.ndarray:
    """Write the predictions (`SignScore`s, best first) and the frame rate in the top-left corner, in place."""
    import cv2

    lines = [f"{p.sign}: {p.probability:.0%}" for p in predictions]
    if fps is not None:
        lines.append(f"{fps:.1f} fps")
    if not lines:
        return frame
    scale = max(frame.shape[0] / 720, 0.4)
    line_height = int(30 * scale)
    width = int(max(len(line) for line in lines) * 15 * scale) + 10
    cv2.rectangle(frame, (0, 0), (width, line_height * len(lines) + 10), PANEL_COLOUR, -1)
    for i, line in enumerate(lines):
        cv2.putText(frame, line, (5, line_height * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, 0.8 * scale, TEXT_COLOUR,
                    max(1, int(2 * scale)), cv2.LINE_AA)
    return frame
