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
    warnings: list[str]  # why the prediction is unsure (thin input, frames that did not decode); [] when sure


def predict_video(path: Path, recognizer: SignRecognizer, top: int = 5, frames: int | None = None,
                  model_complexity: int = 1) -> VideoPrediction:
    """Extract a video's landmarks (all frames, or `frames` evenly sampled) and predict its top signs."""
    extraction = extract_video(path, frames, model_complexity)
    try:
        predictions = recognizer.predict(extraction.values, top)
    except AslError as error:
        raise AslError(f"{path}: {error}") from None
    warnings = recognizer.input_warnings(extraction.values)
    if extraction.decoded_frames < extraction.declared_frames:
        warnings.append(f"only {extraction.decoded_frames} of the {extraction.declared_frames} frames its container "
                        "declares could be decoded (a truncated or damaged file, or a miscounting container)")
    return VideoPrediction(Path(path), predictions, extraction, warnings)


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
    return {"video": str(prediction.path),
            **prediction_fields(prediction.extraction.values, prediction.predictions, prediction.warnings)}


def prediction_fields(values: np.ndarray, predictions: list[SignScore], warnings: list[str]) -> dict:
    """The JSON-ready fields of a prediction from raw landmarks (T, 543, C): frames, predictions, warnings."""
    return {
        "frames": int(len(values)),
        "frames_with_hands": int(hands_seen(values).sum()),
        "predictions": [{"sign": p.sign, "probability": round(p.probability, 6)} for p in predictions],
        "warnings": warnings,
    }


