"""Videos of any shape read like the competition's captures: the capture geometry and the mapping into it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from asl.inference.geometry import (CAPTURE_ASPECT, CAPTURE_SHOULDER_FACE_RATIO, recording_ratios,
                                    shoulder_face_ratio, to_capture, to_frame)
from asl.landmarks import ROWS_PER_FRAME, part_rows

LANDSCAPE = (960, 540)  # the 1080p video downscaled by half: MediaPipe still finds the signer, in half the time
PORTRAIT = (960, 1280)  # the same frames padded with black bars above and below to a 3:4 portrait
FIRST_FRAMES = 60


def test_the_mapping_keeps_height_and_centre_and_is_undone(random_landmarks):
    values = random_landmarks(4)
    values[1, part_rows("left_hand")] = np.nan
    mapped = to_capture(values, 16 / 9)
    scale = (16 / 9) / CAPTURE_ASPECT
    np.testing.assert_allclose(mapped[..., 0] - 0.5, (values[..., 0] - 0.5) * scale)
    np.testing.assert_array_equal(mapped[..., 1], values[..., 1])  # y keeps the frame's height
    np.testing.assert_allclose(mapped[..., 2], values[..., 2] * scale)  # z is scaled like x
    np.testing.assert_allclose(to_frame(mapped, 16 / 9), values)  # NaN where NaN
    np.testing.assert_allclose(to_capture(values, CAPTURE_ASPECT), values)  # a capture-shaped frame is unchanged
    assert not np.shares_memory(mapped, values)


def test_written_landmarks_record_the_frame_size_and_the_mapping(random_landmarks, tmp_path):
    import json

    import pyarrow.parquet as pq

    from asl.inference.extract import GEOMETRY_KEY, Extraction, write_landmarks

    extraction = Extraction(np.arange(3), random_landmarks(3), frame_size=(1920, 1080))
    path = write_landmarks(extraction, tmp_path / "v.parquet")
    recorded = json.loads(pq.read_schema(path).metadata[GEOMETRY_KEY.encode()])
    assert recorded == {"frame_width": 1920, "frame_height": 1080, "capture_aspect": CAPTURE_ASPECT}


def test_drawing_undoes_the_mapping():
    """A point MediaPipe put at (x, y) of the frame is drawn at pixel (x·W, y·H), whatever the mapping did."""
    from asl.inference.draw import draw_landmarks

    raw = np.full((ROWS_PER_FRAME, 3), np.nan)
    raw[part_rows("face")[0]] = (0.9, 0.25, 0.0)  # far right: the mapping moves it out of [0, 1]
    frame = np.zeros((90, 160, 3), dtype=np.uint8)
    draw_landmarks(frame, to_capture(raw, 160 / 90))
    ys, xs = np.nonzero(frame.any(axis=2))
    assert (round(xs.mean()), round(ys.mean())) == (144, 22)


def test_the_competitions_shoulder_face_ratio_is_the_constants(gislr_sample):
    ratios = recording_ratios(gislr_sample)
    assert len(ratios) >= 250  # of the 267 real recordings, those that show shoulders and a face
    assert np.median(ratios) == pytest.approx(CAPTURE_SHOULDER_FACE_RATIO, rel=0.01)


def write_video(path: Path, frames: list[np.ndarray]) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, frames[0].shape[1::-1])
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture(scope="module")
def landscape_and_portrait(shared_videos, tmp_path_factory):
    """Extractions of the first frames of the real 1080p landscape video, and of the same frames padded to a
    portrait frame (black bars: only the scale and the offset of the signer change)."""
    import cv2

    from asl.inference.extract import extract_video
    from asl.inference.video import read_frames, video_info

    video = shared_videos / "bad__thkazi.mp4"
    assert (video_info(video).width, video_info(video).height) == (1920, 1080)  # landscape, as OpenCV decodes it
    frames = [cv2.resize(frame, LANDSCAPE, interpolation=cv2.INTER_AREA)
              for number, frame in read_frames(video) if number < FIRST_FRAMES]
    bar = (PORTRAIT[1] - LANDSCAPE[1]) // 2
    padded = [cv2.copyMakeBorder(frame, bar, bar, 0, 0, cv2.BORDER_CONSTANT, value=0) for frame in frames]
    work = tmp_path_factory.mktemp("shapes")
    return (extract_video(write_video(work / "landscape.mp4", frames)),
            extract_video(write_video(work / "portrait.mp4", padded)))


def test_a_landscape_video_and_its_portrait_padding_read_alike(landscape_and_portrait):
    landscape, portrait = landscape_and_portrait
    assert landscape.frame_size == LANDSCAPE and portrait.frame_size == PORTRAIT
    mapped = [shoulder_face_ratio(landscape.values), shoulder_face_ratio(portrait.values)]
    assert mapped[0] == pytest.approx(mapped[1], rel=0.02)  # measured: 2.074 and 2.068
    # The competition's recordings spread over quartiles 0.94-1.09 of their median (benchmarks/capture_geometry.py).
    assert mapped[0] == pytest.approx(CAPTURE_SHOULDER_FACE_RATIO, rel=0.08)
    assert mapped[1] == pytest.approx(CAPTURE_SHOULDER_FACE_RATIO, rel=0.08)

    # Without the mapping, the two differ by the ratio of the frames' aspects (2.37).
    unmapped = [shoulder_face_ratio(to_frame(e.values, e.frame_size[0] / e.frame_size[1]))
                for e in (landscape, portrait)]
    aspects = (LANDSCAPE[0] / LANDSCAPE[1]) / (PORTRAIT[0] / PORTRAIT[1])
    assert unmapped[1] / unmapped[0] == pytest.approx(aspects, rel=0.03)  # measured: 0.851 and 2.010

    # Mapped, they agree up to the padding's similarity transform: one scale for x and y, about the centre.
    scale = PORTRAIT[1] / LANDSCAPE[1]
    rows = np.concatenate([part_rows("face"), part_rows("pose")[:25]])
    from_portrait = 0.5 + (portrait.values[:, rows, :2] - 0.5) * scale
    differences = np.abs(from_portrait - landscape.values[:, rows, :2])
    assert np.nanmedian(differences) < 0.003  # of the frame's height (measured: 0.0002); a face is about 0.2 high


@pytest.fixture(scope="module")
def real_data_checkpoint(gislr_sample, make_params, tmp_path_factory) -> Path:
    """A tiny transformer trained briefly on the real hello/thankyou recordings, with per-sequence
    standardisation (which takes out each sequence's scale and offset)."""
    from asl.data.clean import scan_recordings
    from asl.data.extra import read_training_index
    from asl.data.preprocess import open_store, preprocess_dataset
    from asl.data.processed import ProcessedData, split_of_rows
    from asl.data.raw import read_sign_map
    from asl.data.splits import split_recordings
    from asl.params import load_params
    from asl.training.run import train_model

    work = tmp_path_factory.mktemp("real_checkpoint")
    params = load_params(make_params(work / "params.yaml"))
    params = replace(params, preprocess=replace(params.preprocess, normalization="standardize"),
                     train=replace(params.train, epochs=20))  # a second each: enough to be sure of its signs
    coordinates = tuple(params.data.coordinates)
    index = read_training_index(gislr_sample)
    index = index[[(gislr_sample / path).is_file() for path in index["path"]]].reset_index(drop=True)
    sign_map = read_sign_map(gislr_sample)
    recordings = scan_recordings(index, gislr_sample, sign_map, coordinates, 1).recordings
    usable = recordings[recordings["problem"] == ""].reset_index(drop=True)
    meta = preprocess_dataset(usable, gislr_sample, sign_map, params.preprocess, coordinates, 1, work / "values.npy")
    split = split_of_rows(meta, split_recordings(recordings, params.split, params.clean, params.seed).table)
    signs = [sign for sign, _ in sorted(sign_map.items(), key=lambda item: item[1])]
    data = ProcessedData(open_store(work / "values.npy", meta), meta, signs, split)
    train_model(params, data, work / "best", work / "dvclive", work / "runs")
    return work / "best"


def test_a_landscape_video_and_its_portrait_padding_give_the_same_prediction(landscape_and_portrait,
                                                                             real_data_checkpoint):
    from asl.inference.recognize import load_recognizer

    recognizer = load_recognizer(real_data_checkpoint)
    assert recognizer.pipeline.transform.normalization == "standardize"
    landscape, portrait = (recognizer.preprocess(e.values) for e in landscape_and_portrait)
    assert np.nanmedian(np.abs(landscape - portrait)) < 0.05  # in standard deviations of the sequence
    probabilities = [recognizer.probabilities(values) for values in (landscape, portrait)]
    assert probabilities[0].max() > 10 / 250  # a sign it prefers (measured: 0.08 to 0.27), not the uniform 1/250
    assert np.argmax(probabilities[0]) == np.argmax(probabilities[1])
    np.testing.assert_allclose(probabilities[0], probabilities[1], atol=0.01)
