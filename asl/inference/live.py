"""The live loop (the seed's `predict_on_camera`): camera or file frames → Holistic → a sliding window → signs.

Frames are decoded (and resized) on a thread of their own, so decoding overlaps the landmark extraction. The window
holds the raw landmarks of the last `preprocess.frames` frames; whenever the newest frame has a hand in view, the
window goes through the training preprocessing and the model. The mesh, the top predictions and the frame rate are
drawn on the frame. `q` in the window, Ctrl-C, or the end of a file source ends the loop, and the camera is always
released. Headless (no window), the predictions are reported through `on_prediction` instead.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from asl.errors import AslError
from asl.extras import require
from asl.inference.extract import HolisticExtractor, hands_seen
from asl.inference.recognize import SignRecognizer, SignScore

PARTS = ("read", "extract", "preprocess", "model", "draw")
WINDOW_NAME = "asl: q to quit"


@dataclass
class LoopStats:
    """Frames processed and the seconds spent in each part of the loop."""

    frames: int = 0
    predictions: int = 0
    skipped: int = 0  # camera frames left unprocessed because newer ones had arrived
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


class FrameReader:
    """The frames of a capture, read and resized on a thread of their own.

    A file gives every frame, in order. A camera (`newest_only`) gives its newest frame: when the loop is slower than
    the camera, older frames are skipped (counted) rather than queued, so what is shown never lags behind. `next`
    returns None at the end of the source and raises what the reading thread raised. `close` stops the thread and
    releases the capture.
    """

    def __init__(self, capture, size: tuple[int, int] | None, newest_only: bool) -> None:
        self.aspect: float | None = None  # width / height of the source's frames (before resizing); set by reading
        self._capture = capture
        self._size = size
        self._newest_only = newest_only
        self._frames: queue.Queue = queue.Queue(maxsize=1 if newest_only else 4)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self.skipped = 0
        self._thread = threading.Thread(target=self._read, name="asl-frame-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        import cv2

        try:
            while not self._stop.is_set():
                ok, frame = self._capture.read()
                if not ok:
                    break
                self.aspect = frame.shape[1] / frame.shape[0]
                if self._size is not None:
                    frame = cv2.resize(frame, self._size, interpolation=cv2.INTER_AREA)
                if self._newest_only:
                    self._drop_waiting_frame()
                self._put(frame)
        except Exception as error:  # handed to the loop's thread by `next`
            self._error = error
        finally:
            self._put(None)

    def _drop_waiting_frame(self) -> None:
        try:
            self._frames.get_nowait()
            self.skipped += 1
        except queue.Empty:
            pass

    def _put(self, item: np.ndarray | None) -> None:
        while not self._stop.is_set():
            try:
                self._frames.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def next(self) -> np.ndarray | None:
        frame = self._frames.get()
        if frame is None and self._error is not None:
            raise self._error
        return frame

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._capture.release()


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
    cv2 = require("cv2", "video")

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
    """Run the loop until the source ends, `q` is pressed or Ctrl-C; return what it measured.

    "read" is the time the loop waited for a decoded frame."""
    import cv2

    reader = FrameReader(open_source(source), options.size, newest_only=not isinstance(source, str))
    recognizer.set_threads(options.model_threads)
    stats = LoopStats()
    window = collections.deque(maxlen=recognizer.frames)
    predictions: list[SignScore] = []
    try:
        with HolisticExtractor(options.model_complexity) as extractor:
            while options.max_frames is None or stats.frames < options.max_frames:
                started = time.perf_counter()
                frame = reader.next()
                if frame is None:
                    break
                stats.seconds["read"] += time.perf_counter() - started
                new = _step(frame, reader.aspect, extractor, recognizer, window, options, stats)
                if new is not None:
                    predictions = new
                    stats.predictions += 1
                    if on_prediction is not None:
                        on_prediction(stats.frames, predictions)
                stats.frames += 1
                _draw(frame, window[-1], reader.aspect, predictions, stats)
                if not options.headless and _show(frame, cv2):
                    break
    except KeyboardInterrupt:
        pass
    finally:
        reader.close()
        stats.skipped = reader.skipped
        if not options.headless:
            cv2.destroyAllWindows()
    return stats


def _step(frame: np.ndarray, aspect: float, extractor: HolisticExtractor, recognizer: SignRecognizer,
          window: collections.deque, options: LiveOptions, stats: LoopStats) -> list[SignScore] | None:
    """Extract one frame (of a source of this aspect) into the window; predict when it shows a hand. Returns the new
    predictions or None."""
    started = time.perf_counter()
    raw = extractor.process(frame, aspect)
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


def _draw(frame: np.ndarray, raw: np.ndarray, aspect: float, predictions: list[SignScore], stats: LoopStats) -> None:
    """The mesh, the predictions and the frame rate, drawn on the frame (headless too: the cost is measured)."""
    from asl.inference.draw import draw_landmarks, draw_predictions

    started = time.perf_counter()
    draw_predictions(draw_landmarks(frame, raw, aspect), predictions, stats.fps)
    stats.seconds["draw"] += time.perf_counter() - started


def _show(frame: np.ndarray, cv2) -> bool:
    """Show the frame; True when the user asked to quit."""
    cv2.imshow(WINDOW_NAME, frame)
    return (cv2.waitKey(1) & 0xFF) == ord("q")
