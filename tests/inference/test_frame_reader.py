"""The live loop's frame reader: every frame of a file in order, only the newest of a camera, errors passed on."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from asl.inference.live import FrameReader


class FakeCapture:
    """A `cv2.VideoCapture` stand-in giving `count` 8×6 frames whose pixels hold their index."""

    def __init__(self, count: int, fail_at: int | None = None, paced: threading.Semaphore | None = None) -> None:
        self.count, self.fail_at, self.paced = count, fail_at, paced
        self.position = 0
        self.released = False

    def read(self):
        if self.paced is not None:
            self.paced.acquire()
        if self.position == self.fail_at:
            raise OSError("the camera went away")
        if self.position >= self.count:
            return False, None
        frame = np.full((6, 8, 3), self.position, dtype=np.uint8)
        self.position += 1
        return True, frame

    def release(self):
        self.released = True


def read_all(reader: FrameReader) -> list[int]:
    indices = []
    while (frame := reader.next()) is not None:
        indices.append(int(frame[0, 0, 0]))
    return indices


def test_a_file_gives_every_frame_in_order_then_none():
    capture = FakeCapture(25)
    reader = FrameReader(capture, None, newest_only=False)
    assert read_all(reader) == list(range(25))
    reader.close()
    assert capture.released and reader.skipped == 0


def test_frames_are_resized_on_the_reading_thread():
    reader = FrameReader(FakeCapture(3), (4, 2), newest_only=False)
    assert reader.next().shape == (2, 4, 3)
    assert reader.aspect == 8 / 6  # the source's shape, which the landmarks' mapping needs (not the resized 4 / 2)
    reader.close()


def test_a_camera_gives_its_newest_frame_and_counts_the_skipped_ones():
    paced = threading.Semaphore(0)
    capture = FakeCapture(10, paced=paced)
    reader = FrameReader(capture, None, newest_only=True)
    for _ in range(6):  # six frames arrive while the loop is busy
        paced.release()
    while capture.position < 6:
        threading.Event().wait(0.01)
    paced.release(5)  # the rest, then the end of the stream
    first = int(reader.next()[0, 0, 0])
    assert first >= 5 and reader.skipped >= 1  # not frame 0: older frames were dropped, not queued
    remaining = read_all(reader)
    assert remaining == sorted(remaining) and 1 + len(remaining) + reader.skipped == 10  # each given or skipped
    reader.close()


def test_a_reading_error_reaches_the_loop_and_the_capture_is_released():
    capture = FakeCapture(10, fail_at=3)
    reader = FrameReader(capture, None, newest_only=False)
    with pytest.raises(OSError, match="the camera went away"):
        read_all(reader)
    reader.close()
    assert capture.released


def test_closing_early_stops_the_thread_while_frames_wait():
    capture = FakeCapture(1000)
    reader = FrameReader(capture, None, newest_only=False)
    assert reader.next() is not None
    reader.close()  # the reading thread is blocked on a full queue: close must still return
    assert capture.released and capture.position < 1000
