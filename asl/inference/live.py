"""The live loop (the seed's `predict_on_camera`): camera or file frames → Holistic → a sliding window → signs.

The window holds the raw landmarks of the last `preprocess.frames` frames; whenever the newest frame has a hand in
view, the window goes through the training preprocessing and the model. The mesh, the top predictions and the frame
rate are drawn on the frame. `q` in the window, Ctrl-C, or the end of a file source ends the loop, and the camera
is always released. Headless (no window), the predictions are reported through `on_prediction` instead.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from asl.errors import AslError
from asl.inference.extract import HolisticExtractor, hands_seen
from asl.inference.recognize import SignRecognizer, SignScore

PARTS = ("read", "extract", "preprocess", "model", "draw")
WINDOW_NAME = "asl: q to quit"


@dataclass
class LoopStats:
    """Frames processed and the seconds spent in each part of the loop."""

    frames: int = 0
    predictions: int = 0
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(PARTS, 0.0))

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    @property
    def fps(self) -> float:
        return self.frames / self.total_seconds if self.total_seconds else 0.0

    def shares(self) -> dict[str, float]:
        total = self.total_seconds or 1.0
        return {part: seconds / total for part, seconds in self.seconds.items()}


@dataclass(frozen=True)
class LiveOptions:
    headless: bool = False
    size: tuple[int, int] | None = None  # (width, height) frames are resized to, if given
    top: int = 5
    max_frames: int | None = None  # stop after this many frames
    model_complexity: int = 1
    model_threads: int = 1  # one sequence at a time: more threads only fight MediaPipe's for the cores


def open_source(source: int | str):
    """A `cv2.VideoCapture` of a camera index or a video file, or an `AslError` when it cannot be opened."""
    import cv2

    if isinstance(source, str):
        from asl.inference.video import open_video

        return open_video(source)
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        capture.release()
        raise AslError(f"camera {source}: cannot be opened (is a camera connected? try --device or --source FILE)")
    return capture


def run_live(source: int | str, recognizer: SignRecognizer, options: LiveOptions = LiveOptions(),
             on_prediction: Callable[[int, list[SignScore]], None] | None = None) -> LoopStats:
    """Run the loop until the source ends, `q` is pressed or Ctrl-C; return what it measured."""
    import cv2

    capture = open_source(source)
    recognizer.set_threads(options.model_threads)
    stats = LoopStats()
    window = collections.deque(maxlen=recognizer.frames)
    predictions: list[SignScore] = []
    try:
        with HolisticExtractor(options.model_complexity) as extractor:
            while options.max_frames is None or stats.frames < options.max_frames:
                started = time.perf_counter()
                ok, frame = capture.read()
                if not ok:
                    break
                if options.size is not None:
                    frame = cv2.resize(frame, options.size, interpolation=cv2.INTER_AREA)
                stats.seconds["read"] += time.perf_counter() - started
                new = _step(frame, extractor, recognizer, window, options, stats)
                if new is not None:
                    predictions = new
                    stats.predictions += 1
                    if on_prediction is not None:
                        on_prediction(stats.frames, predictions)
                stats.frames += 1
                _draw(frame, window[-1], predictions, stats)
                if not options.headless and _show(frame, cv2):
                    break
    except KeyboardInterrupt:
        pass
    finally:
        capture.release()
        if not options.headless:
            cv2.destroyAllWindows()
    return stats


def _step(frame: np.ndarray, extractor: HolisticExtractor, recognizer: SignRecognizer, window: collections.deque,
          options: LiveOptions, stats: LoopStats) -> list[SignScore] | None:
    """Extract one frame into the window; predict when it shows a hand. Returns the new predictions or None."""
    started = time.perf_counter()
    raw = extractor.process(frame)
    window.append(raw)
    stats.seconds["extract"] += time.perf_counter() - started
    if not hands_seen(raw[None])[0]:
        return None
    started = time.perf_counter()
    values = recognizer.preprocess(np.stack(window))  # (frames, 96, C)
    stats.seconds["preprocess"] += time.perf_counter() - started
    started = time.perf_counter()
    predictions = recognizer.top(recognizer.probabilities(values), options.top)
    stats.seconds["model"] += time.perf_counter() - started
    return predictions


def _draw(frame: np.ndarray, raw: np.ndarray, predictions: list[SignScore], stats: LoopStats) -> None:
    """The mesh, the predictions and the frame rate, drawn on the frame (headless too: the cost is measured)."""
    from asl.inference.draw import draw_landmarks, draw_predictions

    started = time.perf_counter()
    draw_predictions(draw_landmarks(frame, raw), predictions, stats.fps)
    stats.seconds["draw"] += time.perf_counter() - started


def _show(frame: np.ndarray, cv2) -> bool:
    """Show the frame; True when the user asked to quit."""
    cv2.imshow(WINDOW_NAME, frame)
    return (cv2.waitKey(1) & 0xFF) == ord("q")
