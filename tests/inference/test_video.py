"""The video path: extraction in the Kaggle schema, prediction, the annotated copy, the live loop, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from asl.cli import app
from asl.data.preprocess import store_file
from asl.data.raw import read_landmarks, validate_landmark_file
from asl.errors import AslError
from asl.inference.extract import Extraction, extract_video, hands_seen, write_landmarks
from asl.inference.video import find_videos, read_frames, sample_indices, sign_from_name, video_info
from asl.landmarks import ROWS_PER_FRAME, part_rows

FEW_FRAMES = 24  # as in the `thkazi` fixture (tests/inference/conftest.py)




def invoke(*arguments) -> "object":
    return CliRunner().invoke(app, [str(a) for a in arguments])


def write_blank_video(path: Path, frames: int = 6) -> Path:
    """A real, decodable video with no person in it: grey frames."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (160, 120))
    for _ in range(frames):
        writer.write(np.full((120, 160, 3), 128, dtype=np.uint8))
    writer.release()
    return path


# --- without MediaPipe ---------------------------------------------------------------------------------------------


def test_sample_indices_are_even_and_cover_the_video():
    assert sample_indices(10, None).tolist() == list(range(10))
    assert sample_indices(10, 20).tolist() == list(range(10))
    assert sample_indices(91, 4).tolist() == [0, 30, 60, 90]
    with pytest.raises(AslError, match="at least 1"):
        sample_indices(10, 0)


def test_sign_names_and_folders(tmp_path):
    assert sign_from_name(Path("a/airplane__msasl_1.mp4")) == "airplane"
    with pytest.raises(AslError, match="does not start with a sign"):
        sign_from_name(Path("airplane.mp4"))
    with pytest.raises(AslError, match="no video files"):
        find_videos([tmp_path])


def test_written_landmarks_pass_the_kaggle_validation(tmp_path):
    values = np.random.default_rng(0).uniform(size=(3, ROWS_PER_FRAME, 3))
    values[1, part_rows("left_hand")] = np.nan  # a part not found
    path = write_landmarks(Extraction(np.array([0, 5, 9]), values), tmp_path / "x.parquet")
    assert validate_landmark_file(path) == 3
    read = read_landmarks(path, ("x", "y", "z"))
    assert read.frame_numbers.tolist() == [0, 5, 9]
    np.testing.assert_allclose(read.values, values.astype(np.float32))  # NaN where NaN


def test_bad_files_give_clear_messages(tmp_path):
    with pytest.raises(AslError, match="video file not found"):
        extract_video(tmp_path / "missing.mp4")
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(AslError, match="not a readable video"):
        extract_video(tmp_path / "text.mp4")


def test_missing_checkpoint_exits_with_a_message(shared_videos, tmp_path):
    result = invoke("predict", "video", shared_videos / "bad__thkazi.mp4", "--checkpoint", tmp_path / "nope")
    assert result.exit_code == 1 and "checkpoint not found" in result.output


# --- MediaPipe on the real videos -----------------------------------------------------------------------------------


def test_hands_are_found_in_most_frames_of_a_real_video(thkazi):
    assert thkazi.values.shape == (FEW_FRAMES, ROWS_PER_FRAME, 3)
    assert np.all(np.diff(thkazi.frame_numbers) > 0) and thkazi.frame_numbers[0] == 0
    assert hands_seen(thkazi.values).mean() >= 0.8
    face = thkazi.values[:, part_rows("face"), :2]
    assert np.isfinite(face).all(axis=(1, 2)).mean() >= 0.8  # a face in most frames too
    assert np.nanmin(face) >= 0 and np.nanmax(face) <= 1  # mapped to the capture geometry, a centred face stays in


def test_a_video_without_a_person_is_reported(tmp_path):
    with pytest.raises(AslError, match="no person found"):
        extract_video(write_blank_video(tmp_path / "blank.mp4"))


def test_video_and_training_data_share_one_preprocessing(thkazi, checkpoint, tmp_path):
    from asl.inference.recognize import load_recognizer

    recognizer = load_recognizer(checkpoint)
    path = write_landmarks(thkazi, tmp_path / "thkazi.parquet")
    as_training = recognizer.pipeline.from_stored(store_file(path, recognizer.pipeline.layout).values)  # the store
    as_video = recognizer.preprocess(thkazi.values)  # the video and camera path
    assert as_video.shape == (recognizer.frames, 96, len(recognizer.coordinates))
    np.testing.assert_array_equal(as_video, as_training)


def test_a_checkpoint_that_does_not_match_the_data_is_an_error(thkazi, checkpoint):
    from asl.inference.recognize import load_recognizer

    recognizer = load_recognizer(checkpoint)
    pipeline = recognizer.pipeline
    recognizer.pipeline = type(pipeline)(pipeline.layout, type(pipeline.transform)(recognizer.frames + 3))
    with pytest.raises(AslError, match="does not match the checkpoint"):
        recognizer.predict(thkazi.values)


def test_extract_command_writes_valid_files_and_reports_bad_ones(shared_videos, tmp_path):
    videos = tmp_path / "videos"
    videos.mkdir()
    for name in ("airplane__msasl_3.mp4", "unknown__pose_test_video.mp4"):
        (videos / name).symlink_to(shared_videos / name)
    (videos / "broken.mp4").write_text("not a video")
    result = invoke("extract", videos, "--out", tmp_path / "out", "--frames", 8)
    assert result.exit_code == 1
    assert "broken.mp4: not a readable video" in result.output and "1 of 3 videos failed" in result.output
    for name in ("airplane__msasl_3", "unknown__pose_test_video"):
        assert validate_landmark_file(tmp_path / "out" / f"{name}.parquet") == 8
    assert not (tmp_path / "out" / "broken.parquet").exists()


def test_predict_every_real_video_and_annotate_one(shared_videos, checkpoint, tmp_path):
    result = invoke("predict", "video", shared_videos, "--checkpoint", checkpoint, "--frames", 12, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert len(report["videos"]) == len(find_videos([shared_videos])) and not report["failed"]
    for record in report["videos"]:
        probabilities = [p["probability"] for p in record["predictions"]]
        assert len(probabilities) == 5 and probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 1 + 1e-6
    video, out = shared_videos / "brother__wlasl_1.mp4", tmp_path / "annotated.mp4"
    result = invoke("predict", "video", video, "--checkpoint", checkpoint, "--frames", 12, "--top", 3, "--out", out)
    assert result.exit_code == 0, result.output
    frames_in = sum(1 for _ in read_frames(video))
    assert sum(1 for _ in read_frames(out)) == frames_in
    assert (video_info(out).width, video_info(out).height) == (video_info(video).width, video_info(video).height)


def test_random_pick_and_bad_videos_in_a_folder_run(shared_videos, checkpoint, tmp_path):
    result = invoke("predict", "video", shared_videos, "--random", "--checkpoint", checkpoint, "--frames", 8)
    assert result.exit_code == 0, result.output
    assert len([line for line in result.output.splitlines() if line.startswith(str(shared_videos))]) == 1
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "airplane__msasl_3.mp4").symlink_to(shared_videos / "airplane__msasl_3.mp4")
    write_blank_video(folder / "nobody.mp4")
    result = invoke("predict", "video", folder, "--checkpoint", checkpoint, "--frames", 8)
    assert result.exit_code == 1
    assert "airplane__msasl_3.mp4: " in result.output and "nobody.mp4: no person found" in result.output


def test_camera_loop_headless_on_a_file_source(shared_videos, checkpoint):
    result = invoke("predict", "camera", "--source", shared_videos / "brother__wlasl_1.mp4", "--headless",
                    "--checkpoint", checkpoint, "--max-frames", 20, "--top", 2)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("frame ")]
    assert lines, result.output  # predictions over time, once hands are in view
    assert all(len(line.split(": ", 1)[1].split(", ")) == 2 for line in lines)
    assert "20 frames" in result.output


def test_video_and_camera_predict_through_an_onnx_export_as_through_the_checkpoint(shared_videos, checkpoint,
                                                                                    tmp_path):
    assert invoke("export", "--format", "onnx", "--checkpoint", checkpoint, "--out", tmp_path / "m.onnx").exit_code == 0
    video = shared_videos / "brother__wlasl_1.mp4"
    outputs = {}
    for model in (checkpoint, tmp_path / "m.onnx"):
        camera = invoke("predict", "camera", "--source", video, "--headless", "--checkpoint", model, "--max-frames", 20)
        videos = invoke("predict", "video", video, "--frames", 8, "--json", "--checkpoint", model)
        assert camera.exit_code == videos.exit_code == 0, camera.output + videos.output
        top = [line.split(": ", 1)[1].split(" ")[0] for line in camera.output.splitlines() if line.startswith("frame ")]
        record = json.loads(videos.output[videos.output.index("{"):])["videos"][0]
        outputs[model.suffix] = top, record["predictions"]
    (top, predictions), (onnx_top, onnx_predictions) = outputs[""], outputs[".onnx"]
    assert top and onnx_top == top  # the same top sign at every predicted frame of the live loop
    assert [p["sign"] for p in onnx_predictions] == [p["sign"] for p in predictions]
    np.testing.assert_allclose([p["probability"] for p in onnx_predictions], [p["probability"] for p in predictions],
                               atol=1e-5)


def test_camera_that_cannot_be_opened_is_an_error(checkpoint):
    result = invoke("predict", "camera", "--device", 97, "--headless", "--checkpoint", checkpoint)
    assert result.exit_code == 1 and "camera 97: cannot be opened" in result.output


def test_ctrl_c_ends_the_live_loop_cleanly(shared_videos, checkpoint):
    from asl.inference.live import LiveOptions, run_live
    from asl.inference.recognize import load_recognizer

    def interrupt(frame, predictions):
        raise KeyboardInterrupt

    stats = run_live(str(shared_videos / "brother__wlasl_1.mp4"), load_recognizer(checkpoint),
                     LiveOptions(headless=True, size=(320, 240), max_frames=30), interrupt)
    assert stats.predictions == 1 and stats.frames < 30  # stopped at the first prediction, without a traceback
    assert set(stats.shares()) == {"read", "extract", "preprocess", "model", "draw"}


def test_q_in_the_window_ends_the_loop_and_closes_it(shared_videos, checkpoint, monkeypatch):
    import cv2

    from asl.inference.live import LiveOptions, run_live
    from asl.inference.recognize import load_recognizer

    shown, closed = [], []
    monkeypatch.setattr(cv2, "imshow", lambda name, frame: shown.append(frame.shape))
    monkeypatch.setattr(cv2, "waitKey", lambda delay: ord("q") if len(shown) == 3 else -1)
    monkeypatch.setattr(cv2, "destroyAllWindows", lambda: closed.append(True))
    stats = run_live(str(shared_videos / "brother__wlasl_1.mp4"), load_recognizer(checkpoint),
                     LiveOptions(size=(320, 240), max_frames=30))
    assert stats.frames == 3 and shown == [(240, 320, 3)] * 3 and closed == [True]


def test_the_asl_command_does_not_import_heavy_frameworks():
    import subprocess
    import sys

    heavy = "('mediapipe', 'cv2', 'torch', 'tensorflow', 'onnx', 'onnxruntime')"
    code = f"import sys, asl.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_a_one_frame_video_is_predicted_with_a_warning_naming_the_frame_count(shared_videos, checkpoint, tmp_path):
    import cv2

    frames = [frame for _, frame in read_frames(shared_videos / "bad__thkazi.mp4")]
    middle = frames[len(frames) // 2]  # the signing hand is in view mid-sign
    one = tmp_path / "one.mp4"
    writer = cv2.VideoWriter(str(one), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, middle.shape[1::-1])
    writer.write(middle)
    writer.release()
    result = CliRunner().invoke(app, ["predict", "video", str(one), "--checkpoint", str(checkpoint), "--json"])
    assert result.exit_code == 0, result.output
    warning = "only 1 of 1 frames show a hand, fewer than the clean.min_frames="
    assert f"warning: {one}: {warning}" in result.stderr
    report = json.loads(result.stdout[result.stdout.index("{"):])
    assert report["videos"][0]["warnings"][0].startswith(warning)
