"""Signs from video files, and an annotated copy with the landmark mesh and the predictions drawn on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asl.errors import AslError
from asl.inference.extract import Extraction, extract_video, hands_seen
from asl.inference.recognize import SignRecognizer, SignScore
from asl.inference.video import read_frames, video_info
from asl.io import atomic_path


@dataclass(frozen=True)
class VideoPrediction:
    path: Path
    predictions: list[SignScore]  # best first
    extraction: Extraction


def predict_video(path: Path, recognizer: SignRecognizer, top: int = 5, frames: int | None = None,
                  model_complexity: int = 1) -> VideoPrediction:
    """Extract a video's landmarks (all frames, or `frames` evenly sampled) and predict its top signs."""
    extraction = extract_video(path, frames, model_complexity)
    try:
        predictions = recognizer.predict(extraction.values, top)
    except AslError as error:
        raise AslError(f"{path}: {error}") from None
    return VideoPrediction(Path(path), predictions, extraction)


def write_annotated_video(prediction: VideoPrediction, out: Path) -> int:
    """Copy the video with its landmarks and the predictions drawn on every frame; returns the frames written."""
    import cv2

    from asl.inference.draw import draw_landmarks, draw_predictions

    info = video_info(prediction.path)
    landmarks = dict(zip(prediction.extraction.frame_numbers.tolist(), prediction.extraction.values))
    written = 0
    out = Path(out)
    with atomic_path(out) as temporary:
        encoding = temporary.with_suffix(out.suffix)  # OpenCV picks the container by the name's suffix
        writer = cv2.VideoWriter(str(encoding), cv2.VideoWriter_fourcc(*"mp4v"), info.fps or 25.0,
                                 (info.width, info.height))
        try:
            if not writer.isOpened():
                raise AslError(f"{out}: cannot write a video here (use a .mp4 or .avi name)")
            current = None  # with sampled frames, each mesh is held until the next sampled frame
            for number, frame in read_frames(prediction.path):
                current = landmarks.get(number, current)
                if current is not None:
                    draw_landmarks(frame, current)
                writer.write(draw_predictions(frame, prediction.predictions))
                written += 1
            writer.release()
            encoding.replace(temporary)
        finally:
            writer.release()
            encoding.unlink(missing_ok=True)
    return written


def prediction_record(prediction: VideoPrediction) -> dict:
    """A JSON-ready summary of one video's prediction."""
    values = prediction.extraction.values
    return {
        "video": str(prediction.path),
        "frames": int(len(values)),
        "frames_with_hands": int(hands_seen(values).sum()),
        "predictions": [{"sign": p.sign, "probability": round(p.probability, 6)} for p in prediction.predictions],
    }


